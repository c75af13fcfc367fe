"""Figures from result grids: heatmaps, learning curves with seed bands, a final metric against an
axis, and the theory model's figure.

Figures are matplotlib Figure objects built without pyplot, so importing this module changes
no global state (backend, rcParams) of the session that imports it; save() writes png, pdf or
svg by the file's extension. draw(results) picks the figure a grid's config asks for, so any
.npz can be redrawn from the file alone (python -m sslgap.show).
"""

import os
import textwrap

import matplotlib.ticker
import matplotlib.transforms
from matplotlib.figure import Figure
import numpy as np

from sslgap.base import files
from sslgap.science import results as results_lib
from sslgap.science import series as series_lib
from sslgap.science import stats

BAND = "95% Student's t interval of the seed mean"
EM_PER_CHARACTER = 0.62  # DejaVu Sans, text of our titles and labels (digits are wider, ~0.64)
NAMES = {
    'dataset_size': 'dataset size N', 'lr': 'learning rate', 'seed': 'seed', 'phase_sizes': 'phases',
    'random_label_phases': 'random-label phases', 'alpha': 'alpha', 'b2': 'AdamW beta2',
    'pool_fraction': 'share of each batch from the small set', 'online_bias_samples': 'biased-online samples m',
    'test_acc': 'test accuracy', 'train_acc': 'train accuracy', 'test_loss': 'test loss', 'train_loss': 'train loss',
    'norm_ratio': 'norm ratio ||a|| / ||W||', 'abs_a': '|a|', 'alignment': 'weight on the support',
    'phase1_steps': 'phase-1 steps T1', 'model__width': 'width', 'model__hidden_layers': 'hidden layers',
    'model__layers': 'layers', 'model__qk_norm': 'QK norm', 'model__parameterization': 'parameterisation',
    'task__k': 'k', 'task__degree': 'degree', 'data__debias': 'debiasing', 'data__schedule': 'schedule',
    'data__online_groups': 'groups trained online',
}
GROUP_NAMES = {'first': 'first-layer', 'rest': "other layers'", 'qk': 'W_Q, W_K'}


def name_of(key):
  """A readable name for an axis or metric key."""
  if key in NAMES:
    return NAMES[key]
  for prefix, what in (('init_scale_', 'init scale'), ('lr_mult_', 'lr multiplier'), ('norm_', 'weight norm')):
    if key.startswith(prefix):
      group = key[len(prefix):]
      return f'{GROUP_NAMES.get(group, group)} {what}'
  return key.replace('__', ' ').replace('_', ' ')


def size_label(size, population=None):
  size = int(size)
  if size == 0:
    return 'online'
  name = f'N = 2^{size.bit_length() - 1}' if size >= 1024 and size & (size - 1) == 0 else f'N = {size:,}'
  return f'{name} (full population)' if size == population else name


def tick(value):
  """A tick label: $2^{k}$ for powers of two (halves included), else 3 significant digits."""
  value = float(value)
  exponent = np.log2(value) if value > 0 else np.nan
  if np.isclose(exponent, np.round(exponent * 2) / 2):
    return f'$2^{{{exponent:g}}}$'
  return f'{value:.3g}'


def value_label(axis, value, population=None):
  value = results_lib.parse_coord(value)
  if axis == 'dataset_size':
    return size_label(value, population)
  if axis == 'phase_sizes':
    return 'phases ' + ' > '.join('online' if v in (0, 'online') else f'{v:,}' for v in value)
  if isinstance(value, float):
    return f'{name_of(axis)} = {value:g}'
  return f'{name_of(axis)} = {value}'


def series_label(selection, population=None):
  return ', '.join(value_label(a, v, population) for a, v in selection.items())


def new_figure(rows, cols, width=4.4, height=3.3):
  fig = Figure(figsize=(width * cols, height * rows), constrained_layout=True)
  return fig, fig.subplots(rows, cols, squeeze=False)


def save(fig, path):
  """Writes the figure, whole or not at all; the extension picks the format (png at 120 dpi, pdf or
  svg as vectors). FileError names the path when it cannot be written (a full disk)."""
  fmt = os.path.splitext(path)[1][1:] or 'png'
  files.atomic_write(path, lambda f: fig.savefig(f, format=fmt, dpi=120))


# --- heatmaps -----------------------------------------------------------------------------------

def run_description(config, results=None):
  """One line saying what ran: task, model, optimiser with its fixed hyper-parameters, batch and
  steps (the values a grid sweeps are left to its axes)."""
  task, model = dict(config.get('task') or {}), dict(config.get('model') or {})
  train, optim, hp = dict(config.get('train') or {}), dict(config.get('optim') or {}), dict(config.get('hp') or {})
  swept = set(results.axis_names) if results is not None else set()
  fixed = lambda section, values, key: key in values and f'{section}__{key}' not in swept
  # a swept task value is named by its symbol; the axes give its values
  symbol = lambda key, name=None: task[key] if fixed('task', task, key) else (name or key)
  name = task.get('name', '?')
  if name == 'parity':
    what = f'({symbol("n")},{symbol("k")})-parity'
  elif name == 'sim':
    what = f'SIM He_{symbol("degree", "k")}' + (f' in d = {task["d"]}' if fixed('task', task, 'd') else '')
  elif name == 'modadd':
    what = f'addition mod {symbol("p")}'
  elif name == 'icl':
    what = 'in-context regression' + (f', d = {task["d"]}' if fixed('task', task, 'd') else '') + (
        f', {task["context"]} examples' if fixed('task', task, 'context') else '')
  else:
    what = name
  kind = model.get('kind', '?')
  shape = ''.join(f', {label.format(model[key])}' for key, label in (
      ('width', 'width {}'), ('hidden_layers', '{} hidden'), ('layers', '{} layers'), ('dim', 'dim {}'))
      if fixed('model', model, key))
  optimiser = optim.get('kind', 'sgd')
  number = lambda v: f'{v:,}' if isinstance(v, int) and not isinstance(v, bool) else (
      f'{v:g}' if isinstance(v, float) else str(v))
  lr = '' if 'lr' in swept or 'lr' not in hp else f' lr {number(hp["lr"])}'
  full = (config.get('data') or {}).get('mode') == 'full_batch'
  batch = '' if not fixed('train', train, 'batch_size') else f', batch {number(train["batch_size"])}'
  if full and optimiser == 'sgd':
    update = f'full-batch GD{lr}'
  else:
    update = f'{optimiser}{lr}' + (', full batch' if full else batch)
  steps = f', {number(train["steps"])} steps' if fixed('train', train, 'steps') else ''
  return f'{what}; {kind}{shape}; {update}{steps}'


SATURATED, CHANCE = 0.995, 0.55  # a seed-mean accuracy at least / at most this: at the ceiling / at chance


def heatmap_panels(results, x_axis, y_axis, panel_axis, metric='test_acc', star=(1.0, 1.0), labels=None,
                   title='', population=None, best='max'):
  """One heatmap of the final metric (seed mean, best over other axes such as lr) per value of
  panel_axis, on one colour range; with two panels a third shows their gap on a diverging map centred
  at 0, marked where its 95% t interval over seeds contains 0 (told apart: both panels at the
  ceiling, both at chance, or unsure)."""
  panels = results.coords[panel_axis]
  xs, ys = results.coords[x_axis], results.coords[y_axis]
  labels = labels or {}
  per_seed = [series_lib.series(results, {panel_axis: results_lib.parse_coord(p)}, metric, best, keep=[y_axis, x_axis])
              [..., -1] for p in panels]  # [Y, X, S] each
  grids = [(stats._nan_quiet(np.nanmean, v, axis=-1), size_label(p, population) if panel_axis == 'dataset_size'
            else value_label(panel_axis, p)) for v, p in zip(per_seed, panels)]
  accuracy = metric.endswith('acc')
  values = np.concatenate([g.ravel() for g, _ in grids])
  value_range = (0.5, 1.0) if accuracy else (float(np.nanmin(values)), float(np.nanmax(values)))
  unsure = None
  if len(panels) == 2:
    gap = per_seed[0] - per_seed[1]
    if gap.shape[-1] > 1:
      low, _, high = stats.t_bands(gap)
      unsure = ~((low > 0) | (high < 0))  # also where fewer than 2 seeds are finite: nothing excludes 0
    grids.append((grids[0][0] - grids[1][0], f'gap: {grids[0][1]} minus {grids[1][1]}'))
  fig, axes = new_figure(1, len(grids), 4.6, 4.4)
  for k, (ax, (grid, name)) in enumerate(zip(axes[0], grids)):
    is_gap = k == 2
    if is_gap:
      reach = float(np.nanmax(np.abs(grid))) if np.isfinite(grid).any() else 1.0
      reach = reach if reach > 0 else 1.0
      image = ax.imshow(grid, origin='lower', aspect='auto', cmap='RdBu_r', vmin=-reach, vmax=reach)
    else:
      image = ax.imshow(grid, origin='lower', aspect='auto', cmap='viridis', vmin=value_range[0], vmax=value_range[1])
    ax.set_xticks(range(len(xs)), [tick(v) for v in xs], rotation=90, fontsize=9)
    ax.set_yticks(range(len(ys)), [tick(v) for v in ys], fontsize=9)
    ax.set_xlabel(labels.get(x_axis, name_of(x_axis)))
    ax.set_ylabel(labels.get(y_axis, name_of(y_axis)))
    ax.set_title(name, fontsize=10)
    if star is not None:
      sx, sy = np.flatnonzero(np.isclose(xs, star[0])), np.flatnonzero(np.isclose(ys, star[1]))
      if sx.size and sy.size:
        ax.plot(sx[0], sy[0], linestyle='none', marker='*', color='red', markersize=14, markeredgecolor='white',
                label=f'default ({star[0]:g}, {star[1]:g})' if k == 0 else None)
    if is_gap and unsure is not None and unsure.any():
      both = np.stack([g for g, _ in grids[:2]])
      kinds = [('both at the ceiling', np.all(both >= SATURATED, axis=0) if accuracy else np.zeros_like(unsure), 'o',
                'white'),
               ('both at chance', np.all(both <= CHANCE, axis=0) if accuracy else np.zeros_like(unsure), 'x', 'dimgray')]
      rest = unsure.copy()
      for text, where, marker, colour in kinds:
        where = where & unsure
        rest &= ~where
        if where.any():
          yy, xx = np.nonzero(where)
          ax.plot(xx, yy, linestyle='none', marker=marker, color=colour, markeredgecolor='black', markersize=4,
                  markeredgewidth=0.5, label=f'gap interval contains 0: {text}')
      if rest.any():
        yy, xx = np.nonzero(rest)
        ax.plot(xx, yy, linestyle='none', marker='.', color='black', markersize=4,
                label='gap interval contains 0: unsure')
    bar = fig.colorbar(image, ax=ax, shrink=0.8)
    bar.set_label(('gap in ' if is_gap else 'final ') + name_of(metric), fontsize=9)
  handles = [h for ax in axes[0] for h in ax.get_legend_handles_labels()[0]]
  names = [n for ax in axes[0] for n in ax.get_legend_handles_labels()[1]]
  if handles:
    fig.legend(handles, names, loc='outside lower center', ncol=len(handles), fontsize=8, frameon=False)
  tuned = [a for a in results.axis_names if a not in (x_axis, y_axis, panel_axis, 'seed')]
  suffix = f', best {", ".join(name_of(a) for a in tuned)} per cell' if tuned else ''
  suptitle(fig, [f'{title}: final {name_of(metric)}, mean over {len(results.coords.get("seed", [0]))} seeds{suffix}',
                 run_description(results.config, results)])
  return fig


# --- learning curves ----------------------------------------------------------------------------

def _panels_and_series(results, plot):
  """The panel values (or [None]) and the (label, selection) series a config's plot section names."""
  panels = [None] if not plot.get('panels') else list(results.coords[plot['panels']])
  series = plot.get('series') or [(None, {plot['lines']: results_lib.parse_coord(v)})
                                  for v in results.coords[plot['lines']]]
  return panels, [(label, dict(selection)) for label, selection in series]


def _panel_selection(plot, panel):
  return {plot['panels']: results_lib.parse_coord(panel)} if panel is not None else {}


LEGEND_FONT = 7


def _legends(fig, axes, group=1):
  """Legends below the panels, never over the curves: one for the figure when every panel names the
  same lines, else one under each panel's first column of its `group` (steps, then compute), as wide as
  that column (a wider one would widen the column in the layout); the panels keep their height."""
  firsts = range(0, axes.shape[1], group)
  panels = [axes[-1, c].get_legend_handles_labels() for c in firsts]
  labelled = [(h, l) for h, l in panels if h]
  if not labelled:
    return
  shared = all(l == labelled[0][1] for _, l in labelled)
  per_width = fig.get_figwidth() / (1 if shared else axes.shape[1])
  longest = max(len(label) for _, labels in labelled for label in labels)
  count = max(len(labels) for _, labels in labelled)
  ncol = max(1, min(count, int(per_width * 72 / (longest * LEGEND_FONT * EM_PER_CHARACTER + 30))))
  rows = -(-count // ncol)
  if shared:
    fig.legend(*labelled[0], loc='outside lower center', ncol=ncol, fontsize=LEGEND_FONT, frameon=False)
  else:
    below = matplotlib.transforms.ScaledTranslation(0, -0.45, fig.dpi_scale_trans)  # under the x label
    for c in firsts:
      ax = axes[-1, c]
      if ax.get_legend_handles_labels()[0]:
        ax.legend(loc='upper center', bbox_to_anchor=(0.5, 0), bbox_transform=ax.transAxes + below, ncol=ncol,
                  fontsize=LEGEND_FONT, frameon=False)
  fig.set_figheight(fig.get_figheight() + rows * LEGEND_FONT * 1.35 / 72 + (0.1 if shared else 0.5))


def _finish(fig, axes, plot, band, results, group=1):
  _legends(fig, axes, group)
  lines = [plot.get('title', ''), run_description(results.config, results)]
  suptitle(fig, lines + ([f'(bands: {band})'] if band else []))
  return fig


def suptitle(fig, lines, fontsize=10):
  """The figure's title, each line wrapped to the figure's width (a one-panel figure is narrow)."""
  width = max(30, int(fig.get_figwidth() * 72 / (EM_PER_CHARACTER * fontsize)))  # characters a line holds
  text = '\n'.join(_wrap(line, width) for line in lines if line)
  extra = text.count('\n') - 1  # the panels keep their height under a title of more than two lines
  if extra > 0:
    fig.set_figheight(fig.get_figheight() + extra * fontsize * 1.4 / 72)
  fig.suptitle(text, fontsize=fontsize)


def _wrap(line, width):
  """A line broken at its '; ' parts where it can (task; model; optimiser), at spaces where it must."""
  rows = []
  for part in line.split('; '):
    if rows and len(rows[-1]) + 2 + len(part) <= width:
      rows[-1] += '; ' + part
    else:
      rows.append(part)
  return '\n'.join(textwrap.fill(row, width) for row in rows)


def _band(values, metric=''):
  """(low, mean, high) over seeds of [S, E] curves: the 95% t interval of the mean (the verdicts' own),
  drawn within [0, 1] for an accuracy (the interval of a mean near 1 reaches past what it can be)."""
  if values.shape[0] < 2:
    mean = values[0]
    return mean, mean, mean
  low, mean, high = stats.t_bands(values, axis=0)
  if metric.endswith('acc'):
    low, high = np.clip(low, 0, 1), np.clip(high, 0, 1)
  return low, mean, high


def _compute_is_steps(results):
  """Whether every run processed the same examples per step (mini-batch SGD at one batch size): then a
  compute panel would repeat the step panel."""
  seen = results.examples.reshape(-1, results.examples.shape[-1])
  steps = np.asarray(results.eval_steps, float)
  if steps[-1] <= 0:
    return True
  rate = seen[:, -1:] / steps[-1]
  return bool(np.allclose(seen, rate * steps) and np.allclose(rate, rate[0]))


def curves(results, plot):
  """Rows: metrics; columns: panels x (steps, compute); lines: series, each with the seed mean and a
  band (BAND). Axes a series does not fix are tuned per line (named in the legend)."""
  metrics = list(plot['metrics'])
  xs = list(plot.get('x', ('steps', 'compute')))
  if results.examples is None or _compute_is_steps(results):  # no compute axis, or one that only rescales steps
    xs = [x for x in xs if x != 'compute'] or ['steps']
  panels, series = _panels_and_series(results, plot)
  fig, axes = new_figure(len(metrics), len(panels) * len(xs))
  best = plot.get('best', 'max')
  for p, panel in enumerate(panels):
    for label, selection in series:
      full = dict(_panel_selection(plot, panel), **selection)
      for m, metric in enumerate(metrics):
        values, chosen = series_lib.tuned(results, full, metric, best, tune_metric=metrics[0])
        low, mean, high = _band(values, metric)
        suffix = ''.join(f' ({name_of(a)} {v:.3g})' for a, v in chosen.items() if isinstance(v, float))
        for c, x_kind in enumerate(xs):
          ax = axes[m, p * len(xs) + c]
          point = {a: results_lib.parse_coord(v) for a, v in dict(full, **chosen).items()}
          x = results.eval_steps if x_kind == 'steps' else results.examples_at(point)
          keep = x > 0 if x_kind == 'compute' else slice(None)  # log axis: step 0 has no place
          line, = ax.plot(x[keep], mean[keep], label=(label or series_label(selection)) + suffix)
          ax.fill_between(x[keep], low[keep], high[keep], color=line.get_color(), alpha=0.2, linewidth=0)
          ax.set_xlabel('steps' if x_kind == 'steps' else 'compute (examples processed)')
          ax.set_ylabel(name_of(metric))
          if x_kind == 'compute':
            ax.set_xscale('log')
            ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
          if metric in plot.get('log_y', ()):
            ax.set_yscale('log')
          if panel is not None:
            ax.set_title(value_label(plot['panels'], panel), fontsize=9)
  return _finish(fig, axes, plot, BAND if 'seed' in results.axis_names else '', results, group=len(xs))


def final_vs_axis(results, plot):
  """The final metric (seed mean, other axes tuned per point) against a swept axis, one line per
  series, with 95% t-interval error bars over seeds."""
  x_axis = plot['x_axis']
  metrics = list(plot['metrics'])
  panels, series = _panels_and_series(results, plot)
  fig, axes = new_figure(len(metrics), len(panels))
  xs = np.asarray(results.coords[x_axis], float)
  best = plot.get('best', 'max')
  for p, panel in enumerate(panels):
    for label, selection in series:
      full = dict(_panel_selection(plot, panel), **selection)
      for m, metric in enumerate(metrics):
        finals = [_band(series_lib.tuned(results, dict(full, **{x_axis: results_lib.parse_coord(x)}), metric, best,
                                     tune_metric=metrics[0])[0], metric) for x in results.coords[x_axis]]
        low, mean, high = (np.asarray([f[i][-1] for f in finals]) for i in range(3))
        ax = axes[m, p]
        ax.errorbar(xs, mean, yerr=[mean - low, high - mean], marker='o', capsize=2,
                    label=label or series_label(selection))
        ax.set_xscale('log', base=2)
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: tick(v)))
        ax.set_xlabel(name_of(x_axis))
        ax.set_ylabel(f'final {name_of(metric)}')
        if panel is not None:
          ax.set_title(value_label(plot['panels'], panel), fontsize=9)
  return _finish(fig, axes, plot, BAND if 'seed' in results.axis_names else '', results)


# --- the theory model ---------------------------------------------------------------------------

def phase1_steps(results, a_star):
  """The theory model's T1 per run: phase-1 steps of the runs that reached |a| >= a*, else NaN."""
  final = lambda name: results[name][..., -1]
  return np.where(final('abs_a') >= a_star, final('phase1_steps'), np.nan)


def theory_summary(results):
  """{label: (sizes, median T1, slope over d <= N <= d^2, median total steps)} per phase-1 label
  kind, and the median total steps of population gradients alone."""
  config = results.config
  a_star, d = config['hp']['a_star'], config['task']['n']
  sizes = results.coords['dataset_size']
  finite = sizes > 0
  total = results.steps_to_target('alignment', config['plot']['alignment'])
  rows = {}
  for flag, label in ((0, 'true labels'), (1, 'random labels')):
    sel = results.sel(random_label_phases=flag)
    t1 = np.nanmedian(phase1_steps(sel, a_star), axis=-1)
    steps = np.nanmedian(total[:, list(results.coords['random_label_phases']).index(flag)], axis=-1)
    fit = finite & (sizes >= d) & (sizes <= d * d)
    rows[label] = (sizes[finite], t1[finite], stats.fitted_loglog_slope(sizes[fit], t1[fit]), steps[finite])
  population = float(np.nanmedian(total[~finite][0, 0])) if (~finite).any() else np.nan
  return rows, population


def theory_figure(results):
  """Left: median phase-1 steps T1 against N (log-log) with the bound a* sqrt(N) / eta; right: total
  steps to alignment against N, and population gradients alone."""
  config = results.config
  rows, population = theory_summary(results)
  fig, axes = new_figure(1, 2, 5.0, 4.0)
  axes = axes[0]
  for label, (sizes, t1, slope, total) in rows.items():
    axes[0].loglog(sizes, t1, marker='o', label=f'{label}: slope {slope:.2f}')
    axes[1].semilogx(sizes, total, marker='o', label=f'phase 1 with {label}')
  sizes = rows['true labels'][0]
  eta, a_star = config['hp']['lr'], config['hp']['a_star']
  axes[0].loglog(sizes, a_star * np.sqrt(sizes) / eta, 'k--', label='bound a* sqrt(N) / eta')
  axes[1].axhline(population, color='k', ls='--', label='population gradients only')
  axes[0].set(xlabel='phase-1 dataset size N', ylabel='phase-1 steps T1 (median over seeds)')
  axes[1].set(xlabel='phase-1 dataset size N', ylabel=f'steps to alignment {config["plot"]["alignment"]} (median)')
  for ax in axes:
    ax.legend(fontsize=7)
  fig.suptitle(f'Theorem 1: quadratic neuron, (d={config["task"]["n"]}, 2)-parity, eta={eta}, a*={a_star}',
               fontsize=10)
  return fig


# --- any grid -----------------------------------------------------------------------------------

def best_for(metric):
  """'min' for a loss or an overfitting gap, 'max' for the rest (accuracies, norms)."""
  return 'min' if metric.endswith('loss') or metric.startswith('overfit') else 'max'


def kind_of(config):
  """'heatmap', 'theory', 'final_vs_axis' or 'curves': the figure a grid's config asks for."""
  plot = config.get('plot') or {}
  if config.get('model', {}).get('kind') == 'quadratic_neuron':
    return 'theory'
  if plot.get('x') and plot.get('y') and plot.get('panels') and not plot.get('metrics'):
    return 'heatmap'
  if plot.get('x_axis'):
    return 'final_vs_axis'
  return 'curves'


def _holds(results, selection):
  """Whether the grid has the series' values: a grid cut to fewer values than its config's plot section
  names (a design's confirmation keeps only its claim's series) draws the series it has."""
  try:
    results.sel(**{a: results_lib.parse_coord(v) for a, v in dict(selection).items()})
    return True
  except KeyError:
    return False


def draw(results, metric=None):
  """The figure of a grid, from its config alone; `metric` replaces the plotted metric(s)."""
  config = results.config
  plot = dict(config.get('plot') or {})
  kind = kind_of(config)
  if kind == 'theory':
    return theory_figure(results)
  if kind == 'heatmap':
    task = config.get('task', {})
    population = 2**task['n'] if task.get('name') == 'parity' else None
    metric = metric or 'test_acc'
    return heatmap_panels(results, plot['x'], plot['y'], plot['panels'], metric=metric,
                          labels=dict(plot.get('labels') or {}), title=plot.get('title') or config.get('name', ''),
                          population=population, best=best_for(metric))
  plot.setdefault('title', config.get('name', ''))
  plot['series'] = [tuple(s) for s in plot.get('series') or [] if _holds(results, s[1])]
  if metric:
    plot['metrics'], plot['best'] = [metric], best_for(metric)
  if not plot.get('metrics'):
    plot['metrics'] = ['test_acc' if 'test_acc' in results.metrics else 'test_loss']
  if not plot.get('lines') and not plot['series']:
    lines = [a for a in results.axis_names if a != 'seed']
    if lines:
      plot['lines'] = lines[0]
    else:  # seeds only: one line
      plot['series'] = [('all runs', {})]
  return final_vs_axis(results, plot) if kind == 'final_vs_axis' else curves(results, plot)
