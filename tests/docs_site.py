"""The built documentation site (tests/docs_site.sh), as a reader gets it: every
link and image of every page resolves (to a file of the site, and to an anchor
that page has), and headless Chromium renders the front page, a module page
and a role page with what they must show."""

import os
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from urllib.parse import unquote, urlsplit


class Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.links = set(), []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ('id', 'name'):
            if attrs.get(key):
                self.ids.add(attrs[key])
        for key in ('href', 'src'):
            if attrs.get(key) and tag in ('a', 'img', 'link', 'script'):
                self.links.append(attrs[key])


def pages(site):
    out = {}
    for directory, _dirs, files in os.walk(site):
        for name in files:
            if name.endswith('.html'):
                path = os.path.join(directory, name)
                page = Page()
                with open(path, encoding='utf-8') as handle:
                    page.feed(handle.read())
                out[os.path.normpath(path)] = page
    return out


def broken_links(site):
    """Every local link that names no file of the site, or an anchor its page lacks."""
    found, broken = pages(site), []
    for path, page in sorted(found.items()):
        for link in page.links:
            parts = urlsplit(link)
            if parts.scheme or link.startswith('//') or link.startswith('mailto:'):
                continue  # the world outside: not this site's to check
            target = os.path.normpath(os.path.join(os.path.dirname(path), unquote(parts.path))) \
                if parts.path else path
            if not os.path.exists(target):
                broken.append('%s: %s (no such file)' % (os.path.relpath(path, site), link))
            elif parts.fragment and target in found and parts.fragment not in found[target].ids:
                broken.append('%s: %s (no such anchor)' % (os.path.relpath(path, site), link))
    return found, broken


def rendered(chromium, path):
    """The page's DOM after Chromium has loaded and run it."""
    out = subprocess.run([chromium, '--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
                          '--dump-dom', 'file://' + os.path.abspath(path)],
                         capture_output=True, text=True, timeout=120, check=True)
    return out.stdout


def main(site):
    found, broken = broken_links(site)
    assert len(found) > 40, 'only %d pages: the site is not whole' % len(found)
    assert not broken, 'links that go nowhere:\n' + '\n'.join(broken)
    chromium = shutil.which('chromium') or shutil.which('chromium-browser')
    assert chromium, 'no chromium: make docs installs Debian\'s (apt-get install chromium)'
    expect = {
        'index.html': ['kubeha.control_plane', 'collections/index.html', 'docs/bgp.html'],
        'collections/kubeha/control_plane/drift_module.html': ['kubeha.control_plane.drift module',
                                                              'wire_listen', 'differing_paths'],
        'collections/kubeha/control_plane/bgp_role.html': ['kubeha.control_plane.bgp role', 'bgp_peers'],
        'docs/README.html': ['A new VIP mode', 'design.html'],
    }
    for page, texts in expect.items():
        dom = rendered(chromium, os.path.join(site, page))
        missing = [t for t in texts if t not in dom]
        assert not missing, '%s rendered without %s' % (page, missing)
    print('docs site: %d pages, every link resolves; Chromium rendered %s' % (len(found), ', '.join(expect)))


if __name__ == '__main__':
    main(sys.argv[1])
