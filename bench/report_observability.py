"""docs/observability.md's table and docs/img/alerts-timeline.png from make
alerts' results (bench/results/alerts.json): the page writer of bench/alerts.py."""
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAGE = os.path.join(ROOT, 'docs', 'observability.md')
PLOT = os.path.join(ROOT, 'docs', 'img', 'alerts-timeline.png')


def plot(results, samples, path):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    if not samples:
        return
    start = samples[0][0]
    names = sorted(set(a for _t, alerts in samples for a, _s, _l in alerts))
    fig, ax = plt.subplots(figsize=(11, 0.5 * len(names) + 1.8))
    for row, name in enumerate(names):
        for state, colour in (('pending', '#f0c36d'), ('firing', '#d9534f')):
            xs = [t - start for t, alerts in samples if any(a == name and s == state for a, s, _l in alerts)]
            ax.broken_barh([(x, 1.0) for x in xs], (row - 0.35, 0.7), color=colour,
                           label=state if row == 0 else None)
    for result in results:
        x0 = result['at'] - start
        ax.axvline(x0, color='black', lw=0.8)
        ax.axvline(x0 + result['recovered_at'], color='green', lw=0.8, ls='--')
        ax.text(x0 + 1, len(names) - 0.4, result['case'].replace('_', ' '), fontsize=8, va='bottom')
    ax.set_yticks(range(len(names)))
    ax.set_yticklabels(names, fontsize=8)
    ax.set_xlabel('seconds (black: fault injected, dashed green: recovered)')
    ax.set_title('Alerts in the lab\'s Prometheus during make alerts (pending: yellow, firing: red)')
    ax.set_ylim(-0.6, len(names) + 0.4)
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in ('#f0c36d', '#d9534f')]
    ax.legend(handles, ['pending', 'firing'], loc='lower right', fontsize=8)
    fig.tight_layout()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fig.savefig(path, dpi=110)


def table(results):
    rows = ['| fault | alert | firing after | in Alertmanager after | resolved after recovery | other alerts | verdict |',
            '|---|---|---|---|---|---|---|']
    for r in results:
        for e in r['expected']:
            sec = (lambda v: '%.0f s' % v if v is not None else 'never')
            rows.append('| %s | %s%s | %s | %s | %s | %s | %s |' % (
                r['case'].replace('_', ' '), e['alert'],
                ' (%s)' % ', '.join('%s=%s' % kv for kv in sorted(e['labels'].items())) if e['labels'] else '',
                sec(e['firing_after_s']), sec(e['received_after_s']), sec(e['resolved_after_recovery_s']),
                ', '.join(r['other_alerts']) or 'none', 'met' if r['met'] else '**not met**'))
    return '\n'.join(rows)


def write(data, page=PAGE, plot_path=PLOT):
    """The table between the page's markers, and the timeline plot."""
    text = open(page).read()
    begin, end = '<!-- alerts:begin -->', '<!-- alerts:end -->'
    body = '%s\n%s\n\nRun of %s; raw results: bench/results/alerts.json.\n%s' % (
        begin, table(data['results']), data['date'], end)
    head, _sep, rest = text.partition(begin)
    _old, _sep, tail = rest.partition(end)
    with open(page, 'w') as handle:
        handle.write(head + body + tail)
    plot(data['results'], data['samples'], plot_path)
