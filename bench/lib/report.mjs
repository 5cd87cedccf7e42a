// Summarizes a bench/run.sh run: prints the comparison table and optionally appends a dated
// section to bench/RESULTS.md.
//
//   node bench/lib/report.mjs --steps steps.tsv --systems systems.tsv --command CMD
//        --machine TEXT --config TEXT [--label TEXT] [--append RESULTS.md]
//
// Clean maximum of a test = the highest achieved rate among steps whose status is "clean" or
// "saturated" (0 failed calls, 0 retransmissions, every call completed). The table also gives
// the target rate of that step and the first target rate that failed ("limit").
/* global process */
import fs from 'node:fs';

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i += 2) out[argv[i].replace(/^--/, '')] = argv[i + 1];
  return out;
}

function readTsv(file) {
  if (!file || !fs.existsSync(file)) return [];
  const lines = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');
  const head = lines.shift()?.split('\t') ?? [];
  return lines.map((l) => {
    const cells = l.split('\t');
    const rec = {};
    head.forEach((h, i) => { rec[h] = cells[i] ?? ''; });
    return rec;
  });
}

const TESTS = [
  { key: 'register', title: 'REGISTER/s' },
  { key: 'calls', title: 'calls/s' },
];

/** { achieved, target, limit, cpu, steps } for one system and test, or null when not run. */
function summarize(steps, system, test) {
  const mine = steps.filter((s) => s.system === system && s.test === test && Number(s.step) > 0);
  const pre = steps.find((s) => s.system === system && s.test === test && Number(s.step) === 0);
  if (mine.length === 0) return pre ? { error: pre.note || 'setup failed' } : null;
  let best = null;
  for (const s of mine) {
    const ok = s.status === 'clean' || s.status === 'saturated';
    if (ok && (!best || Number(s.achieved) > Number(best.achieved))) best = s;
  }
  // Final verdict of each step = its last attempt; the ramp's limit = the lowest target rate
  // whose step stayed unclean.
  const finalByStep = new Map();
  for (const s of mine) finalByStep.set(s.step, s);
  const finals = [...finalByStep.values()];
  const failed = finals.filter((s) => s.status !== 'clean' && s.status !== 'saturated');
  const limit = failed.length ? Math.min(...failed.map((s) => Number(s.target))) : 0;
  const ended = limit ? `unclean at ${limit}/s`
    : finals.some((s) => s.status === 'saturated') ? 'saturated' : 'max steps';
  return {
    achieved: best ? Number(best.achieved) : 0,
    target: best ? Number(best.target) : 0,
    cpu: best ? best.srv_cpu : '',
    sippCpu: best ? best.sipp_cpu : '',
    ended,
    steps: mine,
  };
}

function fmtRate(x) {
  return x.toFixed(0);
}

function main() {
  const a = parseArgs(process.argv.slice(2));
  const steps = readTsv(a.steps);
  const systems = readTsv(a.systems);
  const names = ['kamailio', 'sipher'].filter((n) => systems.some((s) => s.system === n) || steps.some((s) => s.system === n));
  const state = (n) => systems.filter((s) => s.system === n).map((s) => `${s.state}: ${s.detail}`).join('; ');
  const sum = {};
  for (const n of names) {
    sum[n] = {};
    for (const t of TESTS) sum[n][t.key] = summarize(steps, n, t.key);
  }

  const cell = (r) => {
    if (!r) return 'not run';
    if (r.error) return `failed (${r.error})`;
    if (!r.achieved) return `0 (${r.ended})`;
    return `${fmtRate(r.achieved)} (target ${r.target}; CPU server ${r.cpu}%, SIPp ${r.sippCpu}%; ramp ended: ${r.ended})`;
  };
  const ratio = (t) => {
    const k = sum.kamailio?.[t];
    const s = sum.sipher?.[t];
    if (!k || !s || k.error || s.error || !k.achieved) return 'n/a';
    return (s.achieved / k.achieved).toFixed(2);
  };

  const rows = [];
  rows.push(['system', ...TESTS.map((t) => `${t.title} clean max (achieved)`)]);
  for (const n of names) {
    const st = systems.find((s) => s.system === n && s.state !== 'ok');
    if (st && !steps.some((s) => s.system === n)) rows.push([n, ...TESTS.map(() => `${st.state}: ${st.detail}`)]);
    else rows.push([n, ...TESTS.map((t) => cell(sum[n][t.key]))]);
  }
  if (names.includes('kamailio') && names.includes('sipher')) {
    rows.push(['Sipher/Kamailio', ...TESTS.map((t) => ratio(t.key))]);
  }

  // stdout: aligned plain-text table
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  process.stdout.write('\n');
  for (const r of rows) process.stdout.write(r.map((c, i) => String(c).padEnd(widths[i])).join('  ') + '\n');
  for (const n of names) {
    const st = state(n);
    if (st) process.stdout.write(`${n}: ${st}\n`);
  }
  process.stdout.write('\n');

  if (!a.append) return;
  const md = [];
  const when = new Date().toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  md.push('', `## ${when}${a.label ? ` — ${a.label}` : ''}`, '');
  md.push(`- Command: \`${a.command}\``);
  md.push(`- Machine: ${a.machine}`);
  md.push(`- Settings: ${a.config}`);
  for (const n of names) md.push(`- ${n}: ${state(n) || 'n/a'}`);
  md.push('');
  md.push(`| ${rows[0].join(' | ')} |`);
  md.push(`|${rows[0].map(() => '---').join('|')}|`);
  for (const r of rows.slice(1)) md.push(`| ${r.join(' | ')} |`);
  md.push('');
  md.push('Steps (target/s → achieved/s, status, CPU % of one core: server/SIPp[UAC+UAS]/other processes; f=failed r=retransmissions when not clean):');
  md.push('');
  for (const n of names) {
    for (const t of TESTS) {
      const r = sum[n][t.key];
      if (!r || r.error) continue;
      const parts = r.steps.map((s) => {
        const extra = s.status === 'clean' ? '' : ` f=${s.failed} r=${s.retrans} drops=${s.udp_drops}`;
        return `${s.target}→${Number(s.achieved).toFixed(0)} ${s.status}${extra} ${s.srv_cpu}/${s.sipp_cpu}/${s.other_cpu}`;
      });
      md.push(`- ${n} ${t.key}: ${parts.join('; ')}`);
    }
  }
  md.push('');
  fs.appendFileSync(a.append, md.join('\n'));
  process.stdout.write(`appended to ${a.append}\n`);
}

main();
