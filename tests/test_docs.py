"""The README and ``docs/*.md`` name only what exists.

Every relative link resolves (files and GitHub-style ``#anchors``), every ``tools/``
path exists in the repository, every ``mmseg-fcn-*`` command is a console script of
``setup.py``, and the README's config table lists each model of
``configs/metafile.yaml`` with its reference mIoU and released weights. (The module
table of ``docs/layout.md`` is checked by ``tests/test_layout.py``.)
"""
import ast
import glob
import os.path as osp
import re
from typing import Dict, List, Set

import pytest
import yaml

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
PAGES = ['README.md'] + sorted(
    osp.relpath(p, REPO) for p in glob.glob(osp.join(REPO, 'docs', '*.md')))

FENCE = re.compile(r'^\s*(```|~~~)')
HEADING = re.compile(r'^(#{1,6})\s+(.*?)\s*#*\s*$')
#: ``[text](target)`` (text may hold one level of brackets) and ``[label]: target``.
INLINE_LINK = re.compile(r'\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)')
REFERENCE_LINK = re.compile(r'^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+"[^"]*")?\s*$')
SCHEME = re.compile(r'^[A-Za-z][A-Za-z0-9+.-]*:')
#: A repository path ``tools/...``; not the tail of another path
#: (``mmseg/.mim/tools/x.py``, ``analysis_tools/x.py``, ``mmseg_fcn_classic/tools``).
TOOLS_PATH = re.compile(r'(?<![\w./-])tools/[\w.-]+(?:/[\w.-]+)*')
COMMAND = re.compile(r'(?<![\w-])mmseg-fcn-[a-z0-9-]*[a-z0-9]')


def prose_lines(text: str) -> List[str]:
    """The lines of ``text`` with fenced code blocks blanked (numbering kept)."""
    lines, fenced = [], False
    for line in text.splitlines():
        if FENCE.match(line):
            fenced = not fenced
            lines.append('')
        else:
            lines.append('' if fenced else line)
    return lines


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a heading (before de-duplication).

    Example:
        >>> github_anchor('Checkpoints and security (torch ≥ 2.6)')
        'checkpoints-and-security-torch--26'
        >>> github_anchor('What `mmseg_fcn_classic::` needs')
        'what-mmseg_fcn_classic-needs'
    """
    text = re.sub(r'\[([^\]]*)\]\([^)]*\)', r'\1', heading)  # a link: its text
    text = text.replace('`', '').strip().lower()
    return re.sub(r'[^\w\- ]', '', text).replace(' ', '-')


def anchors(text: str) -> Set[str]:
    """Every heading anchor of a Markdown page, duplicates numbered as GitHub does."""
    seen: Dict[str, int] = {}
    found = set()
    for line in prose_lines(text):
        m = HEADING.match(line)
        if not m:
            continue
        slug = github_anchor(m.group(2))
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        found.add(slug if n == 0 else f'{slug}-{n}')
    return found


def link_targets(text: str) -> List[str]:
    """The targets of the links of a page, outside code blocks and code spans."""
    targets = []
    for line in prose_lines(text):
        m = REFERENCE_LINK.match(line)
        if m:
            targets.append(m.group(1))
            continue
        targets += INLINE_LINK.findall(re.sub(r'`[^`]*`', '', line))
    return targets


def link_problems(page: str, text: str, repo: str = REPO) -> List[str]:
    """What is wrong with the relative links of ``page`` (a path relative to ``repo``)."""
    problems = []
    for target in link_targets(text):
        if not target or SCHEME.match(target):
            continue  # a URL or mail address: not checked here
        path, _, anchor = target.partition('#')
        if not path:  # an anchor of this page
            if anchor not in anchors(text):
                problems.append(f'{page}: link ({target}): {page} has no heading #{anchor}')
            continue
        file = osp.normpath(osp.join(repo, osp.dirname(page), path))
        if not osp.exists(file):
            problems.append(f'{page}: link ({target}): {path} does not exist')
        elif anchor and not file.endswith('.md'):
            problems.append(f'{page}: link ({target}): #{anchor} in a non-Markdown file')
        elif anchor:
            with open(file, encoding='utf-8') as f:
                if anchor not in anchors(f.read()):
                    problems.append(f'{page}: link ({target}): '
                                    f'{osp.relpath(file, repo)} has no heading #{anchor}')
    return problems


def tool_problems(page: str, text: str, repo: str = REPO) -> List[str]:
    """``tools/...`` paths named in ``text`` (code included) that do not exist."""
    problems = []
    for path in sorted(set(m.rstrip('.') for m in TOOLS_PATH.findall(text))):
        if not osp.exists(osp.join(repo, path)):
            problems.append(f'{page}: {path} does not exist in the repository (name '
                            "mmseg's own tools by their installed path, mmseg/.mim/tools/...)")
    return problems


def setup_names(setup_py: str = osp.join(REPO, 'setup.py')):
    """The distribution name and the console scripts ``setup.py`` declares.

    The ``entry_points`` argument of its ``setup()`` call is evaluated with the
    module's literal constants (such as ``TOOLS``), without running ``setup.py``.
    """
    with open(setup_py) as f:
        tree = ast.parse(f.read(), setup_py)
    consts = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 \
                and isinstance(node.targets[0], ast.Name):
            try:
                consts[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                pass
    (call, ) = [n for n in ast.walk(tree) if isinstance(n, ast.Call)
                and getattr(n.func, 'id', None) == 'setup']
    kwargs = {k.arg: k.value for k in call.keywords}
    entry_points = eval(compile(ast.Expression(kwargs['entry_points']), setup_py, 'eval'),
                        {'__builtins__': {}, **consts})
    scripts = {spec.split('=')[0].strip() for spec in entry_points['console_scripts']}
    name = ast.literal_eval(kwargs['name']).replace('_', '-')
    return name, scripts


def command_problems(page: str, text: str, allowed: Set[str]) -> List[str]:
    """``mmseg-fcn-*`` names in ``text`` that are not in ``allowed``."""
    return [f'{page}: {name} is not a console script of setup.py'
            for name in sorted(set(COMMAND.findall(text)) - allowed)]


def _read(page: str) -> str:
    with open(osp.join(REPO, page), encoding='utf-8') as f:
        return f.read()


def test_pages_found():
    assert {'README.md', 'docs/README.md', 'docs/layout.md', 'docs/datasets.md',
            'docs/benchmarks.md'} <= set(PAGES)


@pytest.mark.parametrize('page', PAGES)
def test_links_resolve(page):
    assert not link_problems(page, _read(page))


@pytest.mark.parametrize('page', PAGES)
def test_named_tools_and_commands_exist(page):
    dist, scripts = setup_names()
    text = _read(page)
    assert not tool_problems(page, text) + command_problems(page, text, scripts | {dist})


def test_docs_index_lists_every_page():
    index = set(link_targets(_read('docs/README.md')))
    listed = {t.partition('#')[0] for t in index}
    assert {osp.basename(p) for p in PAGES if p.startswith('docs/')} - {'README.md'} \
        <= listed


def test_the_checks_find_what_is_wrong(tmp_path):
    """Each check reports a broken link, a missing anchor, a missing tool and an
    unknown command, and passes the good ones next to them."""
    (tmp_path / 'docs').mkdir()
    (tmp_path / 'tools').mkdir()
    (tmp_path / 'tools' / 'train.py').write_text('')
    (tmp_path / 'docs' / 'a.md').write_text('# A\n\n## Bad input (torch ≥ 2.6)\n\n## Layout\n'
                                            '\n### Layout\n')
    text = ('See [a](a.md#bad-input-torch--26), [b](a.md#layout-1), [top](#usage), '
            '[web](https://example.org/x#y) and `[not a link](nope.md)`.\n'
            '## Usage\n[gone](missing.md) [no anchor](a.md#nowhere) '
            '[self](#nowhere-here)\n```\n[code](also_missing.md)\n```\n'
            'Run `python tools/train.py`, then tools/nope.py and '
            'mmseg/.mim/tools/test.py; mmseg-fcn-train, mmseg-fcn-nope.\n')
    links = link_problems('docs/page.md', text, repo=str(tmp_path))
    assert [p.split(': ', 2)[1] for p in links] == [
        'link (missing.md)', 'link (a.md#nowhere)', 'link (#nowhere-here)']
    assert tool_problems('docs/page.md', text, repo=str(tmp_path)) == [
        'docs/page.md: tools/nope.py does not exist in the repository (name '
        "mmseg's own tools by their installed path, mmseg/.mim/tools/...)"]
    assert command_problems('docs/page.md', text, {'mmseg-fcn-train'}) == [
        'docs/page.md: mmseg-fcn-nope is not a console script of setup.py']


def test_setup_names_reads_the_entry_points():
    dist, scripts = setup_names()
    assert dist == 'mmseg-fcn-classic'
    assert {'mmseg-fcn-train', 'mmseg-fcn-test', 'mmseg-fcn-convert-weights'} <= scripts


# --- the README's config table ---------------------------------------------------

def readme_config_rows() -> Dict[str, str]:
    """Config name -> its row of the README's ``## Configs`` table."""
    section = _read('README.md').split('\n## Configs\n', 1)[1].split('\n## ', 1)[0]
    rows = {}
    for line in section.splitlines():
        m = re.match(r'\| \[[^\]]+\]\(configs/([^)]+)\.py\) \|', line)
        if m:
            assert m.group(1) not in rows, f'{m.group(1)} is listed twice'
            rows[m.group(1)] = line
    return rows


def _metafile_models() -> List[dict]:
    with open(osp.join(REPO, 'configs', 'metafile.yaml')) as f:
        return yaml.safe_load(f)['Models']


def test_readme_config_table_matches_the_metafile():
    rows = readme_config_rows()
    models = {m['Name']: m for m in _metafile_models()}
    assert set(rows) == set(models), 'the README config table must list every ' \
        'model of configs/metafile.yaml, and only those'
    for name, model in models.items():
        row = rows[name]
        results = model.get('Results') or []
        for result in results if isinstance(results, list) else [results]:
            miou = result['Metrics'].get('mIoU')
            if miou is not None:
                assert f'**{miou}**' in row, f'{name}: mIoU {miou} of {result["Dataset"]}'
        released = {w['URL'] for w in model.get('Released Weights', [])}
        converted = model.get('Converted From', {}).get('Weights')
        urls = set(re.findall(r'\]\((https?://[^)\s]+)\)', row))
        assert urls <= released | {converted}, f'{name}: {urls - released}'
        assert bool(urls) == bool(released), f'{name}: link the released weights'
