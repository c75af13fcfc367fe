"""The import graph of sslgap runs one way: no cycle, counting imports inside functions too, and no
plug-in (a task, a model, an example) imports anything inside a function."""

import ast
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = 'sslgap'


def _modules():
  """{dotted module name: path} of every module of the package (a package is its __init__)."""
  modules = {}
  for folder, _, names in os.walk(os.path.join(ROOT, PACKAGE)):
    for name in names:
      if name.endswith('.py'):
        dotted = os.path.relpath(os.path.join(folder, name), ROOT)[:-3].replace(os.sep, '.')
        modules[dotted.removesuffix('.__init__')] = os.path.join(folder, name)
  return modules


def _imported(node, modules):
  """The sslgap modules an Import or ImportFrom node loads (a name imported from a package may be
  one of its modules)."""
  def owner(name):
    while name and name not in modules:
      name = name.rpartition('.')[0]
    return name
  if isinstance(node, ast.Import):
    return {owner(a.name) for a in node.names if a.name.split('.')[0] == PACKAGE}
  if node.level or not node.module or node.module.split('.')[0] != PACKAGE:
    return set()
  return {f'{node.module}.{a.name}' if f'{node.module}.{a.name}' in modules else owner(node.module)
          for a in node.names}


def _import_nodes(tree, in_functions=True):
  """The Import and ImportFrom nodes of a module, those inside functions too unless in_functions=False."""
  if in_functions:
    return [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]
  found, todo = [], list(ast.iter_child_nodes(tree))
  while todo:
    node = todo.pop()
    if isinstance(node, (ast.Import, ast.ImportFrom)):
      found.append(node)
    elif not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
      todo.extend(ast.iter_child_nodes(node))
  return found


def import_graph(in_functions=True):
  """{module: {modules it imports, at module level and (unless in_functions=False) inside functions}}."""
  modules = _modules()
  graph = {}
  for name, path in modules.items():
    with open(path) as f:
      tree = ast.parse(f.read(), path)
    graph[name] = set().union(*[_imported(n, modules) for n in _import_nodes(tree, in_functions)]) - {name, ''}
  return graph


def loaded_on_import(graph, module):
  """The sslgap modules that importing `module` loads: what it imports at module level, their packages
  (Python runs a package's __init__ before its module), and so on."""
  loaded, todo = set(), [module]
  while todo:
    name = todo.pop()
    if name in loaded:
      continue
    loaded.add(name)
    parts = name.split('.')
    todo += [m for m in graph.get(name, ())] + ['.'.join(parts[:i]) for i in range(1, len(parts))]
  return loaded


def cycles(graph):
  """The strongly connected components of more than one module (Tarjan's algorithm)."""
  index, low, stack, on_stack, found = {}, {}, [], set(), []

  def visit(v):
    index[v] = low[v] = len(index)
    stack.append(v)
    on_stack.add(v)
    for w in sorted(graph.get(v, ())):
      if w not in index:
        visit(w)
        low[v] = min(low[v], low[w])
      elif w in on_stack:
        low[v] = min(low[v], index[w])
    if low[v] == index[v]:
      component = []
      while not component or component[-1] != v:
        component.append(stack.pop())
        on_stack.discard(component[-1])
      if len(component) > 1:
        found.append(sorted(component))

  for v in sorted(graph):
    if v not in index:
      visit(v)
  return found


def function_level_imports(path):
  """(line, text) of the imports inside a function of a file."""
  with open(path) as f:
    source = f.read()
  found = []
  for fn in ast.walk(ast.parse(source, path)):
    if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
      found += [(n.lineno, ast.get_source_segment(source, n)) for n in ast.walk(fn)
                if isinstance(n, (ast.Import, ast.ImportFrom))]
  return found


def test_the_import_graph_of_sslgap_has_no_cycle():
  graph = import_graph()
  assert len(graph) > 30 and 'sslgap.errors' in graph and 'sslgap.tasks.parity' in graph
  assert not graph['sslgap.errors'], f'the error leaf imports {graph["sslgap.errors"]}'
  assert cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle_through_a_function_level_import(tmp_path):
  # The walker itself can fail: a cycle closed only inside a function is still a cycle.
  a = tmp_path / 'a.py'
  a.write_text('from sslgap import b\n\n\ndef f():\n  from sslgap import a  # noqa\n')
  modules = {'sslgap.a': str(a), 'sslgap.b': '', 'sslgap': ''}
  tree = ast.parse(a.read_text())
  edges = set().union(*[_imported(n, modules) for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))])
  assert edges == {'sslgap.a', 'sslgap.b'}
  assert cycles({'sslgap.a': {'sslgap.b'}, 'sslgap.b': {'sslgap.c'}, 'sslgap.c': {'sslgap.a'}}) == [
      ['sslgap.a', 'sslgap.b', 'sslgap.c']]
  assert function_level_imports(str(a)) == [(5, 'from sslgap import a')]


def test_plug_ins_and_examples_import_only_at_the_top():
  folders = [os.path.join(ROOT, 'sslgap', 'tasks'), os.path.join(ROOT, 'sslgap', 'models'),
             os.path.join(ROOT, 'examples')]
  files = [os.path.join(d, n) for d in folders for n in sorted(os.listdir(d)) if n.endswith('.py')]
  assert len(files) >= 10
  inside = {os.path.relpath(p, ROOT): found for p in files if (found := function_level_imports(p))}
  assert inside == {}


WINGS = ('base', 'tasks', 'models', 'training', 'science', 'setup', 'folder', 'engine', 'paper')  # bottom to top
LEAVES = ('sslgap.errors', 'sslgap.version')  # at the top, imported by every wing, importing nothing of ours


def wing_of(module):
  """The wing a module stands in ('base', ..., 'paper'), 'leaf' for errors and version, 'top' for the
  commands and the package itself."""
  parts = module.split('.')
  if module in LEAVES:
    return 'leaf'
  return parts[1] if len(parts) > 1 and parts[1] in WINGS else 'top'


def upward_imports(graph):
  """(importer, imported) pairs where a wing imports a higher wing or a top-level command."""
  rank = {w: i for i, w in enumerate(WINGS)}
  found = []
  for module, imported in sorted(graph.items()):
    wing = wing_of(module)
    if wing in ('top', 'leaf'):
      continue
    for other in sorted(imported):
      target = wing_of(other)
      if target == 'top' or (target in rank and rank[target] > rank[wing]):
        found.append((module, other))
  return found


def test_the_wings_import_only_their_own_and_lower_wings():
  graph = import_graph()
  assert {wing_of(m) for m in graph} == set(WINGS) | {'leaf', 'top'}
  assert upward_imports(graph) == []
  for lower, higher in (('training', 'engine'), ('science', 'setup'), ('science', 'engine'), ('folder', 'engine')):
    assert not [(m, o) for m, imported in graph.items() if wing_of(m) == lower for o in imported
                if wing_of(o) == higher], (lower, higher)
  top = sorted(n for n in os.listdir(os.path.join(ROOT, PACKAGE)) if not n.startswith(('.', '_')) or n == '__init__.py')
  assert len([n for n in top if n != '__pycache__']) <= 20, top


def test_the_wing_checker_finds_an_upward_import():
  graph = {'sslgap.training.train': {'sslgap.engine.sweep', 'sslgap.errors'},
           'sslgap.engine.sweep': {'sslgap.training.train'}, 'sslgap.science.claims': {'sslgap.design'}}
  assert upward_imports(graph) == [('sslgap.science.claims', 'sslgap.design'),
                                   ('sslgap.training.train', 'sslgap.engine.sweep')]


def test_inside_the_package_every_import_names_the_wing():
  """The flat paths (sslgap.MOVED) are for users; inside the package they would hide an edge of the graph
  behind the package itself."""
  import sslgap
  flat = []
  for module, path in _modules().items():
    with open(path) as f:
      tree = ast.parse(f.read(), path)
    for node in ast.walk(tree):
      if isinstance(node, ast.ImportFrom) and node.module == PACKAGE and not node.level:
        flat += [(module, a.name) for a in node.names if a.name in sslgap.MOVED]
      elif isinstance(node, ast.ImportFrom) and node.module and node.module.split('.')[1:2] and \
          node.module.split('.')[1] in sslgap.MOVED and node.module.split('.')[0] == PACKAGE:
        flat.append((module, node.module))
  assert flat == []


def test_a_flat_path_is_the_wings_module_itself():
  import importlib
  import subprocess
  import sys
  import sslgap
  for name, where in sslgap.MOVED.items():
    assert importlib.import_module(f'sslgap.{name}') is importlib.import_module(f'sslgap.{where}'), name
  from sslgap import claims, optim  # noqa: F401 - the from-import form
  assert optim is sys.modules['sslgap.training.optim'] and claims.__name__ == 'sslgap.science.claims'
  done = subprocess.run([sys.executable, '-m', 'sslgap.findings', '--help'], capture_output=True, text=True, cwd=ROOT)
  assert done.returncode == 0 and 'findings' in done.stdout and 'Warning' not in done.stderr


def test_no_wing_hides_a_public_name_of_the_package():
  """Importing a wing sets it as an attribute of sslgap: a wing named like sslgap.run (the notebook
  API) would replace that function the first time anything of the wing is imported."""
  import sslgap
  from sslgap.training import train  # noqa: F401 - the import that once replaced sslgap.run
  assert callable(sslgap.run) and callable(sslgap.load) and callable(sslgap.plot)
  assert not set(WINGS) & {n for n in dir(sslgap) if callable(getattr(sslgap, n)) and not n.startswith('_')
                           and not isinstance(getattr(sslgap, n), type(sslgap))}


def test_a_folder_is_read_and_written_through_the_folder_object_alone():
  """Outside the folder wing, an output folder is reached through sslgap.folder.Folder only: its parts
  (plan file, chunk files, leases, merge, paths) are private to it. chunking is the exception: it is
  the arithmetic of cutting runs into chunks, which the planner needs, and reads no file."""
  graph = import_graph()
  parts = {m for m in graph if wing_of(m) == 'folder'} - {'sslgap.folder', 'sslgap.folder.sweep_folder'}
  outside = sorted((m, o) for m, imported in graph.items() if wing_of(m) != 'folder' for o in imported if o in parts)
  assert outside == [('sslgap.engine.sweep', 'sslgap.folder.chunking')]
  readers = sorted(m for m, path in _modules().items() if 'read_plan(' in open(path).read())
  assert readers == ['sslgap.folder.plan_file', 'sslgap.folder.sweep_folder']


def test_the_runner_imports_at_most_eight_sslgap_modules():
  imported = import_graph()['sslgap.engine.runner']
  assert len(imported) <= 8, sorted(imported)


def test_a_command_imports_matplotlib_only_when_it_draws():
  """matplotlib is 0.4 s of a command's start: a sweep's command, its dry run, status, merge, keep and
  design import it inside the functions that draw (sslgap.api.write_figure), not when they start."""
  def imports_matplotlib(path):
    with open(path) as f:
      nodes = _import_nodes(ast.parse(f.read(), path), in_functions=False)
    names = [a.name for n in nodes if isinstance(n, ast.Import) for a in n.names]
    names += [n.module for n in nodes if isinstance(n, ast.ImportFrom) and n.module]
    return any(name.split('.')[0] == 'matplotlib' for name in names)

  graph = import_graph(in_functions=False)
  drawing = {m for m, path in _modules().items() if imports_matplotlib(path)}
  assert 'sslgap.science.plotting' in drawing
  commands = ('sslgap.cli', 'sslgap.status', 'sslgap.merge', 'sslgap.keep', 'sslgap.design', 'sslgap.paper.findings')
  for command in commands:
    assert not loaded_on_import(graph, command) & drawing, (command, sorted(loaded_on_import(graph, command) & drawing))
  assert 'sslgap.science.plotting' in loaded_on_import(graph, 'sslgap.show')  # the checker sees a drawing command
