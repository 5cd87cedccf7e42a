// Reads SIPp -trace_stat CSV files (';'-separated, header line then one row per -fd period;
// the last row is the final state) and judges one benchmark step.
//
//   node bench/lib/sipp-stats.mjs --target RATE --count N --uac UAC.csv [--uas UAS.csv]
//        [--uac-rc RC] [--saturation 0.8]
//
// Prints one tab-separated line:
//   status  achieved  sent  ok  failed  retrans  elapsed_s  note
// status: clean     all N calls succeeded, 0 failed, 0 retransmissions (UAC and UAS),
//                   achieved >= saturation x target;
//         saturated clean, but achieved < saturation x target (the ramp stops: the offered load
//                   could not be generated/served any faster);
//         unclean   failures, retransmissions or missing calls;
//         error     no statistics (SIPp did not run).
// achieved = successful calls / (last CurrentTime - StartTime) of the UAC, in calls/s.
/* global process */
import fs from 'node:fs';

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i += 2) out[argv[i].replace(/^--/, '')] = argv[i + 1];
  return out;
}

/** Last row of a SIPp statistics CSV as { column: value }, or null when missing/empty. */
export function lastRow(file) {
  if (!file || !fs.existsSync(file)) return null;
  const lines = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '');
  if (lines.length < 2) return null;
  const head = lines[0].split(';');
  const row = lines[lines.length - 1].split(';');
  const rec = {};
  head.forEach((h, i) => { rec[h] = row[i] ?? ''; });
  return rec;
}

/** SIPp time cells look like "2026-11-21\t14:03:37.376610\t1795269817.376610": take the epoch. */
function epoch(cell) {
  const parts = String(cell ?? '').split('\t');
  return Number(parts[parts.length - 1]);
}

function num(rec, key) {
  const v = Number(rec?.[key]);
  return Number.isFinite(v) ? v : 0;
}

export function summarize(rec) {
  return {
    outgoing: num(rec, 'OutgoingCall(C)'),
    incoming: num(rec, 'IncomingCall(C)'),
    ok: num(rec, 'SuccessfulCall(C)'),
    failed: num(rec, 'FailedCall(C)'),
    retrans: num(rec, 'Retransmissions(C)'),
    current: num(rec, 'CurrentCall'),
    elapsed: Math.max(0, epoch(rec['CurrentTime']) - epoch(rec['StartTime'])),
  };
}

function main() {
  const a = parseArgs(process.argv.slice(2));
  const target = Number(a.target);
  const count = Number(a.count);
  const saturation = Number(a.saturation ?? 0.8);
  const uacRec = lastRow(a.uac);
  if (!uacRec) {
    process.stdout.write(['error', 0, 0, 0, 0, 0, 0, 'no UAC statistics'].join('\t') + '\n');
    return;
  }
  const uac = summarize(uacRec);
  const notes = [];
  let failed = uac.failed;
  let retrans = uac.retrans;
  if (uac.failed || uac.retrans) notes.push(`UAC failed=${uac.failed} retrans=${uac.retrans}`);
  if (a.uas !== undefined) {
    const uasRec = lastRow(a.uas);
    if (!uasRec) {
      notes.push('no UAS statistics');
      failed += 1;
    } else {
      const uas = summarize(uasRec);
      failed += uas.failed;
      retrans += uas.retrans;
      if (uas.failed || uas.retrans) notes.push(`UAS failed=${uas.failed} retrans=${uas.retrans}`);
      if (uas.incoming < uac.ok) notes.push(`UAS saw ${uas.incoming} calls`);
    }
  }
  const achieved = uac.elapsed > 0 ? uac.ok / uac.elapsed : 0;
  if (a['uac-rc'] !== undefined && a['uac-rc'] !== '0') notes.push(`sipp exit ${a['uac-rc']}`);
  if (uac.ok < count) notes.push(`${count - uac.ok} of ${count} calls not successful`);
  let status;
  if (failed > 0 || retrans > 0 || uac.ok < count) status = 'unclean';
  else if (achieved < saturation * target) {
    status = 'saturated';
    notes.push(`achieved < ${saturation} x target`);
  } else status = 'clean';
  process.stdout.write([
    status, achieved.toFixed(1), uac.outgoing, uac.ok, failed, retrans, uac.elapsed.toFixed(3),
    notes.join('; ') || '-',
  ].join('\t') + '\n');
}

main();
