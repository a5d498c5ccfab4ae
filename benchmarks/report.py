"""From figures to verdicts and pages: ratios, targets, findings, tables, Markdown.

The prose of the Markdown page ("How to read this") is ``benchmarks/notes.md``.
"""
import json
import os
import os.path as osp
from typing import Dict, List, Optional, Tuple

from .cases import peak_dtype
from .data import WORKER_HEADROOM, workers_needed

#: Targets of the project for the CPU fp32 run (``docs/benchmarks.md``).
TARGETS = dict(inference_peak_fraction=0.85, train_time_ratio=0.85,
               train_memory_ratio=1.0)
#: Issue 12's GPU targets: no plugin overhead over the plain baseline, and at
#: batch >= 16 in bf16 at least half of the bf16 GEMM peak.
GPU_TARGETS = dict(train_time_ratio=1.0, train_peak_fraction=0.5, peak_min_batch=16)
NOTES = osp.join(osp.dirname(osp.abspath(__file__)), 'notes.md')


def _target(model: dict, baseline: Optional[dict], target: str, value: float,
            threshold: float, at_least: bool = False) -> dict:
    """A target verdict: ``value`` at most (``at_least``: at least) ``threshold``."""
    met = value >= threshold if at_least else value <= threshold
    return dict(model=model['name'], baseline=baseline['name'] if baseline else '-',
                target=target, value=value, threshold=threshold, met=met)


def compare(models: List[dict], peaks: Dict[str, dict]) -> Tuple[List[dict],
                                                                  List[dict]]:
    """Ratios of each of our models to the baseline (same mode), and the targets.

    Adds ``peak_fraction_best`` / ``peak_fraction_median`` to each phase of
    ``models`` (in place).

    Returns:
        tuple[list[dict], list[dict]]: ratios, target verdicts.
    """
    ratios, targets = [], []
    baselines = {(m['spec']['mode'], bool(m['spec'].get('tune_malloc'))): m
                 for m in models if m['spec']['kind'] == 'baseline'}
    for m in models:
        mode = m['spec']['mode']
        peak = peaks.get(peak_dtype(mode))
        for phase in ('inference', 'training'):
            if phase in m and peak:
                m[phase]['peak_fraction_best'] = (
                    m[phase]['gflops_per_s_best'] / peak['best_gflops'])
                m[phase]['peak_fraction_median'] = (
                    m[phase]['gflops_per_s_median'] / peak['best_gflops'])
        if m['spec']['kind'] == 'baseline':
            continue
        # against the plain baseline (a default process) and, for a +malloc row,
        # also against the baseline under the same allocator setting
        tuned = bool(m['spec'].get('tune_malloc'))
        bases = [baselines.get((mode, False))]
        if tuned:
            bases.append(baselines.get((mode, True)))
        fcn8s = m['spec'].get('variant') == '8s'
        target_case = fcn8s and mode == 'fp32' and m['spec']['device'] == 'cpu'
        gpu_case = fcn8s and m['spec']['device'].startswith('cuda')
        if (gpu_case and peak_dtype(mode) == 'bfloat16' and peak
                and m['spec']['batch'] >= GPU_TARGETS['peak_min_batch']
                and 'training' in m):
            targets.append(_target(
                m, None, 'training >= 50% of bf16 GEMM peak (median times, own FLOP '
                'count, batch >= 16)', m['training']['peak_fraction_median'],
                GPU_TARGETS['train_peak_fraction'], at_least=True))
        if target_case and 'inference' in m and peak:
            targets.append(_target(
                m, None, 'inference >= 85% of fp32 GEMM peak (best-of times, own '
                'FLOP count)', m['inference']['peak_fraction_best'],
                TARGETS['inference_peak_fraction'], at_least=True))
        for base in bases:
            if base is None:
                continue
            row = dict(name=m['name'], baseline=base['name'], mode=mode)
            for phase in ('inference', 'training'):
                if phase in m and phase in base:
                    a, b = m[phase], base[phase]
                    row[f'{phase}_time_ratio_median'] = a['median_s'] / b['median_s']
                    row[f'{phase}_time_ratio_best'] = a['best_s'] / b['best_s']
                    row[f'{phase}_memory_ratio'] = (
                        a['peak_memory_mib'] / b['peak_memory_mib']
                        if b['peak_memory_mib'] else None)
                    row[f'{phase}_flop_ratio'] = a['flops'] / b['flops']
            ratios.append(row)
            if gpu_case and 'training_time_ratio_median' in row:
                targets.append(_target(
                    m, base, 'training step <= 1.0x baseline (median times)',
                    row['training_time_ratio_median'], GPU_TARGETS['train_time_ratio']))
            if not target_case:
                continue
            if 'training_time_ratio_median' in row:
                targets.append(_target(
                    m, base, 'training step <= 0.85x baseline (median times)',
                    row['training_time_ratio_median'], TARGETS['train_time_ratio']))
            if row.get('training_memory_ratio') is not None:
                targets.append(_target(
                    m, base, 'peak training memory <= baseline',
                    row['training_memory_ratio'], TARGETS['train_memory_ratio']))
    return ratios, targets


def starvation(data: List[dict], models: List[dict],
               headroom: float = WORKER_HEADROOM) -> None:
    """Add to each data entry the training rate of this run's fastest FCN-8s and
    the workers it needs (:func:`benchmarks.data.workers_needed`)."""
    train = [m for m in models if m['spec']['kind'] == 'ours'
             and m['spec'].get('variant') == '8s' and 'training' in m
             and not m['spec'].get('freeze')]
    if not train:
        return
    fastest = max(train, key=lambda m: m['training']['images_per_s'])
    rate = fastest['training']['images_per_s']
    for entry in data:
        if 'samples_per_s' not in entry:
            continue
        entry['model'] = fastest['name']
        entry['model_train_samples_per_s'] = rate
        entry['model_workers_needed'] = workers_needed(rate, entry['samples_per_s'],
                                                       headroom)
        entry['starves_model'] = entry['model_workers_needed'] > entry['num_workers']


def data_lines(data: List[dict]) -> List[str]:
    """One line per pipeline: its rate per worker and the workers it needs."""
    out = []
    for d in data:
        if 'error' in d:
            out.append(f"{d['name']}: FAILED: {d['error']}")
            continue
        line = (f"{d['name']}: {d['samples_per_s']:.1f} samples/s per worker, "
                f"{d['samples_per_cpu_s']:.1f} per CPU-second "
                f"({d['sample_shape']})")
        if 'gpu_rate' in d:
            line += (f"; {d['gpu_rate']['images_per_s']:.0f} images/s need "
                     f"{d['workers_needed']} workers ({d['workers_needed_own_core']} "
                     f"with a core each), config: {d['num_workers']}")
        out.append(line)
    return out


def findings(results: dict) -> List[str]:
    """Plain statements derived from the figures (targets, starvation)."""
    out = []
    by_model: Dict[str, List[dict]] = {}
    for t in results['targets']:
        by_model.setdefault(t['model'], []).append(t)
    for model, targets in by_model.items():
        missed = [t for t in targets if not t['met']]
        if not missed:
            out.append(f'{model} meets all {len(targets)} targets.')
        else:
            out.append(f'{model} misses {len(missed)} of {len(targets)} targets: ' +
                       '; '.join(f"{t['target']} ({t['value']:.3f} vs "
                                 f"{t['threshold']}"
                                 + (f", against {t['baseline']}"
                                    if t.get('baseline', '-') != '-' else '')
                                 + ')' for t in missed) + '.')
    base = next((m for m in results['models']
                 if m['spec']['kind'] == 'baseline' and 'training' in m), None)
    if base is not None and base['training'].get('minor_faults_median'):
        t = base['training']
        out.append(
            f"Page faults: one training step of {base['name']} takes "
            f"{t['minor_faults_median']:,.0f} minor page faults and "
            f"{t['system_cpu_s_median']:.2f} s of system CPU time (its wall time is "
            f"{t['median_s']:.2f} s on {results['settings']['threads']} threads): "
            "glibc maps every large tensor afresh and the kernel zeroes the pages. "
            'That is a property of the process, not of the model; the +malloc rows '
            'show what keeping freed memory costs in resident memory and saves in '
            'time.')
    for d in results.get('data', []):
        if 'error' in d:
            out.append(f"{d['name']} ({d['config']}) was not measured: "
                       f"{d['error']}")
            continue
        if 'gpu_rate' in d:
            verdict = 'enough' if d['enough_workers'] else 'too few'
            out.append(
                f"{d['name']}: one worker delivers {d['samples_per_s']:.1f} "
                f"samples/s ({d['samples_per_cpu_s']:.1f} per CPU-second); "
                f"{d['gpu_rate']['images_per_s']:.0f} images/s "
                f"({d['gpu_rate']['source']}) need {d['workers_needed_own_core']} "
                f"workers per GPU with a core each ({d['workers_needed']} at this "
                f"run's rate), with {d['headroom']:g}x headroom; {d['config']} sets "
                f"num_workers={d['num_workers']}: {verdict}.")
        if 'starves_model' in d:
            verdict = ('starves it' if d['starves_model'] else 'keeps up')
            out.append(f"{d['name']}: against {d['model']}'s measured "
                       f"{d['model_train_samples_per_s']:.3f} samples/s, "
                       f"{d['model_workers_needed']} workers needed; the config's "
                       f"{d['num_workers']} {verdict}.")
    return out


# --------------------------------------------------------------------------------
# Tables and pages
# --------------------------------------------------------------------------------
def case_line(res: dict) -> str:
    """One line of a case's figures, printed while a run goes on."""
    parts = [f'{res["name"]:<36}']
    for phase in ('inference', 'training'):
        if phase in res:
            p = res[phase]
            parts.append(f'{phase} median {p["median_s"]:.3f}s best '
                         f'{p["best_s"]:.3f}s {p["gflop"]:.1f} GFLOP '
                         f'peak +{p["peak_memory_mib"]:.0f} MiB')
    return ' | '.join(parts)


def _fmt(value: Optional[float], spec: str = '.2f') -> str:
    return '–' if value is None else format(value, spec)


def tables(results: dict) -> List[Tuple[str, List[str], List[List[str]]]]:
    """The report's tables: (title, header, rows)."""
    out = []
    peaks = results['gemm_peak']
    if peaks:
        out.append(('GEMM peak (square matrix products sampled between the model '
                    'steps)',
                    ['dtype', 'size', 'products', 'best GFLOP/s',
                     'median GFLOP/s'],
                    [[k, str(v['size']), str(v['samples']),
                      _fmt(v['best_gflops'], '.1f'), _fmt(v['median_gflops'], '.1f')]
                     for k, v in peaks.items()]))
    for phase in ('inference', 'training'):
        rows = []
        for m in results['models']:
            if phase not in m:
                continue
            p = m[phase]
            rows.append([
                m['name'], _fmt(p['median_s'], '.3f'), _fmt(p['best_s'], '.3f'),
                _fmt(p['images_per_s'], '.3f'), _fmt(p['gflop'], '.1f'),
                _fmt(p['gflops_per_s_best'], '.1f'),
                _fmt(100 * p['peak_fraction_best'], '.0f') + '%'
                if 'peak_fraction_best' in p else '–',
                _fmt(p['peak_memory_mib'], '.0f'),
                f"{p['minor_faults_median']:.0f} / "
                f"{_fmt(p['system_cpu_s_median'], '.2f')}"])
        if rows:
            out.append((f'{phase.capitalize()} (batch '
                        f'{results["settings"]["batch"]}, '
                        f'{results["settings"]["size_hw"][1]}x'
                        f'{results["settings"]["size_hw"][0]})',
                        ['model [mode]', 'median s', 'best s', 'images/s',
                         'GFLOP (own count)', 'GFLOP/s (best)',
                         '% of GEMM peak', 'peak memory MiB',
                         'page faults / system CPU s per step'], rows))
    if results['ratios']:
        out.append(('Ours / baseline (same mode; < 1 is better for time and memory)',
                    ['model', 'baseline', 'inference time (median / best)',
                     'training time (median / best)', 'inference memory',
                     'training memory', 'FLOPs inference / training'],
                    [[r['name'], r.get('baseline', '–'),
                      f"{_fmt(r.get('inference_time_ratio_median'))} / "
                      f"{_fmt(r.get('inference_time_ratio_best'))}",
                      f"{_fmt(r.get('training_time_ratio_median'))} / "
                      f"{_fmt(r.get('training_time_ratio_best'))}",
                      _fmt(r.get('inference_memory_ratio')),
                      _fmt(r.get('training_memory_ratio')),
                      f"{_fmt(r.get('inference_flop_ratio'), '.3f')} / "
                      f"{_fmt(r.get('training_flop_ratio'), '.3f')}"]
                     for r in results['ratios']]))
    if results['targets']:
        out.append(('Targets (FCN-8s)', ['model', 'baseline', 'target', 'value',
                                         'met'],
                    [[t['model'], t.get('baseline', '–'), t['target'],
                      _fmt(t['value'], '.3f'),
                      'yes' if t['met'] else 'NO'] for t in results['targets']]))
    if results.get('data'):
        out.append(data_table(results['data']))
    return out


def _wxh(chw: Optional[List[int]]) -> str:
    return f'{chw[2]}x{chw[1]}' if chw else '–'


def data_table(data: List[dict]) -> Tuple[str, List[str], List[List[str]]]:
    """The data-pipeline table: one loader worker's rate, and the workers needed."""
    rows = []
    for d in data:
        if 'error' in d:
            rows.append([d['name'], f"failed: {d['error']}"] + ['–'] * 7)
            continue
        gpu = d.get('gpu_rate', {})
        rows.append([
            d['name'], _wxh(d.get('sample_shape') or d.get('output_shape')),
            f"{_fmt(d['samples_per_s'], '.1f')} / "
            f"{_fmt(d.get('samples_per_cpu_s'), '.1f')}",
            _fmt(gpu.get('images_per_s'), '.0f'),
            f"{d['workers_needed']} / {d.get('workers_needed_own_core', '–')}"
            if 'workers_needed' in d else '–',
            f"{d['batch_size']} x {d['num_workers']}"
            f"{' persistent' if d.get('persistent_workers') else ''}"
            f"{' pinned' if d.get('pin_memory') else ''}",
            ('yes' if d['enough_workers'] else 'NO') if 'enough_workers' in d
            else '–',
            _fmt(d.get('model_train_samples_per_s'), '.3f'),
            str(d.get('model_workers_needed', '–'))])
    headroom = next((d['headroom'] for d in data if 'headroom' in d), None)
    return (('Data pipelines (one loader worker: load, decode, label checks, '
             'transforms, pack, collate)'),
            ['pipeline', 'sample WxH', 'samples/s per worker (wall / per CPU-s)',
             'GPU images/s to feed', f'workers needed, x{_fmt(headroom, "g")} '
             'headroom (wall / own core)', 'config batch x workers',
             'enough? (own core)', "this run's FCN-8s trains samples/s",
             'workers for it'], rows)


def format_table(header: List[str], rows: List[List[str]], markdown: bool) -> str:
    """A Markdown table, or plain text in aligned columns."""
    if markdown:
        lines = ['| ' + ' | '.join(header) + ' |',
                 '|' + '|'.join('---' for _ in header) + '|']
        lines += ['| ' + ' | '.join(r) + ' |' for r in rows]
        return '\n'.join(lines)
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    fmt = '  '.join(f'{{:<{w}}}' for w in widths)
    return '\n'.join([fmt.format(*header), fmt.format(*('-' * w for w in widths))] +
                     [fmt.format(*r) for r in rows])


def print_report(results: dict) -> None:
    """The tables as plain text, and the equivalence of the frozen model."""
    for title, header, rows in tables(results):
        print(f'\n{title}\n' + format_table(header, rows, markdown=False))
    for m in results['models']:
        if 'equivalence' in m:
            e = m['equivalence']
            print(f"\n{m['name']}: max |logits - unoptimised| = "
                  f"{e['max_abs_diff']:.3g} (max |logit| {e['max_abs_logit']:.3g})")


def notes() -> str:
    """The page's "How to read this" section (``benchmarks/notes.md``)."""
    with open(NOTES, encoding='utf-8') as f:
        return f.read()


def _settings_line(s: dict) -> str:
    if s.get('data_only'):
        return (f"* **Settings:** data pipelines only; {s['data_samples']} generated "
                f"samples per dataset, {s['data_samples'] * s['data_reps']} timed "
                'per pipeline')
    return (f"* **Settings:** device `{s['device']}`, {s['size_hw'][1]}x"
            f"{s['size_hw'][0]} (WxH), batch {s['batch']}, torch threads "
            f"{s['threads']}, warm-up {s['warmup']}, timed steps {s['reps']} "
            f"(inference) / {s['train_reps']} (training), modes "
            f"{', '.join(s['modes'])}"
            + (f", widths {s['widths']}, fc {s['fc_channels']}" if s['widths']
               else '')
            + (', one worker process per model' if s['isolated'] else ''))


def to_markdown(results: dict) -> str:
    """The whole ``docs/benchmarks.md`` page for ``results``."""
    m = results['machine']
    s = results['settings']
    lines = [
        '# Benchmarks',
        '',
        'Generated by `tools/benchmark.py`; regenerate with the command below '
        '(the JSON goes to `--out`; `--render <json> --markdown <md>` rewrites this '
        'page from a JSON without measuring).',
        '',
        '```bash',
        results['command'],
        '```',
        '',
        f"* **Date:** {results['date']} (run took "
        f"{results.get('duration_s', 0) / 60:.1f} min)",
        f"* **Machine:** {m['cpu_model']}, {m['logical_cpus']} logical CPUs "
        f"({m['usable_cpus']} usable), {m['platform']}"
        + (f", GPU {m['gpu']} (CUDA {m['cuda']})" if 'gpu' in m else ''),
        f"* **Software:** Python {m['python']}, torch {m['torch']}, mmseg "
        f"{m['mmseg']}, mmengine {m['mmengine']}, mmcv {m['mmcv']}",
        _settings_line(s),
        f"* **Load average** (1/5/15 min) at start {results['load_average_start']}, "
        f"at end {results.get('load_average_end')}. Other processes running at "
        'the same time slow every figure down; the ratios, measured in the same '
        'run, suffer less.',
    ]
    if results.get('note'):
        lines.append(f"* **Conditions:** {results['note']}")
    lines.append('')
    for title, header, rows in tables(results):
        lines += [f'## {title}', '', format_table(header, rows, markdown=True), '']
    equiv = [x for x in results['models'] if 'equivalence' in x]
    if equiv:
        lines += ['## Equivalence of the optimised model', '']
        for x in equiv:
            e = x['equivalence']
            lines.append(f"* {x['name']}: max |logits - unoptimised logits| = "
                         f"{e['max_abs_diff']:.3g} with max |logit| "
                         f"{e['max_abs_logit']:.3g} (within 1e-4 relative: "
                         f"{'yes' if e['equal_within_1e-4'] else 'NO'})")
        lines.append('')
    if results.get('findings'):
        lines += ['## Findings', ''] + [f'* {f}' for f in results['findings']] + ['']
    lines.append(notes())
    return '\n'.join(lines)


def write(results: dict, out: Optional[str] = None,
          markdown: Optional[str] = None) -> None:
    """Write ``results`` as JSON to ``out`` and as a page to ``markdown``."""
    if out:
        os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
        with open(out, 'w') as f:
            json.dump(results, f, indent=1)
        print(f'\nwrote {out}')
    if markdown:
        os.makedirs(osp.dirname(osp.abspath(markdown)), exist_ok=True)
        with open(markdown, 'w') as f:
            f.write(to_markdown(results))
        print(f'wrote {markdown}')
