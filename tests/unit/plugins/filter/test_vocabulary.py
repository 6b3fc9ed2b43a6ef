# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the vocabulary filters (shell_split, environment, served_static, app_programs, nginx_sites,
nginx_site_problems; app_processes, app_exports and upstream_servers are in test_processes.py)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible.plugins.loader import filter_loader
from ansible_collections.webops.tornado.plugins.filter import vocabulary

PLACES = {'{python}': '/srv/demo/current/venv/bin/python', '{src}': '/srv/demo/current/src'}


def test_filters_are_registered():
    filters = vocabulary.FilterModule().filters()
    assert filters == {'shell_split': vocabulary.shell_split, 'environment': vocabulary.environment,
                       'served_static': vocabulary.served_static, 'app_programs': vocabulary.app_programs,
                       'app_processes': vocabulary.app_processes, 'app_exports': vocabulary.app_exports,
                       'upstream_servers': vocabulary.upstream_servers, 'nginx_sites': vocabulary.nginx_sites,
                       'nginx_site_problems': vocabulary.nginx_site_problems,
                       'nginx_retired_files': vocabulary.nginx_retired_files,
                       'nginx_site_files': vocabulary.nginx_site_files,
                       'app_entry': vocabulary.app_entry, 'app_entry_problems': vocabulary.app_entry_problems,
                       'haproxy_server_name': vocabulary.haproxy_server_name,
                       'haproxy_backend_name': vocabulary.haproxy_backend_name,
                       'haproxy_backends': vocabulary.haproxy_backends}


@pytest.mark.parametrize('name', ['shell_split', 'environment', 'served_static', 'app_programs', 'app_processes',
                                  'app_exports', 'upstream_servers', 'nginx_sites', 'nginx_site_problems', 'nginx_retired_files',
                                  'nginx_site_files', 'app_entry', 'app_entry_problems', 'haproxy_server_name', 'haproxy_backend_name',
                                  'haproxy_backends'])
def test_filters_load_by_fqcn(name):
    plugin = filter_loader.get('webops.tornado.' + name)
    assert plugin is not None
    assert plugin.j2_function is getattr(vocabulary, name)


@pytest.mark.parametrize('command, words', [
    ('{python} -m demo --port {port}', ['{python}', '-m', 'demo', '--port', '{port}']),
    ('  spaced   out\tline\n', ['spaced', 'out', 'line']),
    ('serve --name "my app" --title \'it\'"\'"\'s\'', ['serve', '--name', 'my app', '--title', "it's"]),
    (r'serve --sep \; --glob "*.py" --home $HOME', ['serve', '--sep', ';', '--glob', '*.py', '--home', '$HOME']),
    ('serve --prefix "" --empty \'\'', ['serve', '--prefix', '', '--empty', '']),
    ('serve --format %(asctime)s;%%', ['serve', '--format', '%(asctime)s;%%']),
    ('serve --json \'{"a": [1, 2]}\'', ['serve', '--json', '{"a": [1, 2]}']),
    ('serve # not a comment', ['serve', '#', 'not', 'a', 'comment']),
])
def test_shell_split_keeps_each_word_whole(command, words):
    assert vocabulary.shell_split(command) == words


def test_shell_split_fills_in_placeholders_in_every_word():
    words = vocabulary.shell_split('{python} {src}/serve.py --static={src}/static --port {port}', PLACES)
    assert words == ['/srv/demo/current/venv/bin/python', '/srv/demo/current/src/serve.py',
                     '--static=/srv/demo/current/src/static', '--port', '{port}']


def test_shell_split_replacement_values_become_text_and_stay_one_word():
    words = vocabulary.shell_split('serve --port {port} --name {name}', {'{port}': 8000, '{name}': 'my app; rm -rf /'})
    assert words == ['serve', '--port', '8000', '--name', 'my app; rm -rf /']


def test_shell_split_without_replacements():
    assert vocabulary.shell_split('a b', None) == ['a', 'b']
    assert vocabulary.shell_split('a b', {}) == ['a', 'b']


def test_shell_split_empty_command():
    assert vocabulary.shell_split('') == []


def test_shell_split_unbalanced_quote_raises():
    # check_inputs (kind argv) refuses these first; the filter does not guess.
    with pytest.raises(ValueError):
        vocabulary.shell_split('serve --name "my app')


def test_shell_split_documented_example():
    words = vocabulary.shell_split('{python} {src}/serve.py --name "my app" --port {port}', PLACES)
    assert words == ['/srv/demo/current/venv/bin/python', '/srv/demo/current/src/serve.py', '--name', 'my app',
                     '--port', '{port}']


def test_environment_makes_every_value_text():
    env = vocabulary.environment({'WORKERS': 4, 'RATIO': 0.5, 'MODE': 'production', 'EMPTY': ''})
    assert env == {'WORKERS': '4', 'RATIO': '0.5', 'MODE': 'production', 'EMPTY': ''}
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in env.items())


def test_environment_keeps_free_text_as_is():
    value = 'p@ss w0rd with "quotes", %(percent)s, $dollar and \\ backslash\nand a newline'
    assert vocabulary.environment({'SECRET': value}) == {'SECRET': value}


@pytest.mark.parametrize('empty', [None, {}])
def test_environment_of_nothing_is_empty(empty):
    assert vocabulary.environment(empty) == {}


def test_environment_returns_a_new_mapping():
    source = {'A': 1}
    env = vocabulary.environment(source)
    env['B'] = '2'
    assert source == {'A': 1}


# --- served_static -------------------------------------------------------------------------------

RELEASE = '20261201T000000Z-abcd1234'


def info(static_path, prefix='/static/', release=RELEASE):
    return {'id': release, 'app': {'static_path': static_path, 'static_url_prefix': prefix}}


@pytest.mark.parametrize('static_path, served', [
    ('/srv/demo/releases/%s/src/static' % RELEASE, '/srv/demo/current/src/static'),
    ('/srv/demo/releases/%s/venv/lib/python3.11/site-packages/pkg/static' % RELEASE,
     '/srv/demo/current/venv/lib/python3.11/site-packages/pkg/static'),
    ('/srv/demo/releases/%s/src/./static/' % RELEASE, '/srv/demo/current/src/static'),
    ('/srv/demo/current/src/static', '/srv/demo/current/src/static'),
    ('/srv/demo/shared/static', '/srv/demo/shared/static'),
])
def test_served_static_follows_the_current_release(static_path, served):
    assert vocabulary.served_static(info(static_path), '/srv/demo') == {'path': served, 'prefix': '/static/'}


@pytest.mark.parametrize('release_info', [
    info(None), info(''), {}, None, {'id': RELEASE}, info('/etc'), info('/var/www/static'), info('/srv/other/static'),
    info('/srv/demo/releases/%s/src/static dir' % RELEASE), info('/srv/demo/releases/%s/../../../../etc' % RELEASE),
])
def test_served_static_is_none_when_nginx_should_not_serve_it(release_info):
    assert vocabulary.served_static(release_info, '/srv/demo')['path'] is None


def test_served_static_outside_the_home_when_allowed():
    assert vocabulary.served_static(info('/var/www/shop/static'), '/srv/demo', True)['path'] == '/var/www/shop/static'


@pytest.mark.parametrize('prefix, served', [('/assets/', '/assets/'), ('/static/', '/static/'), (None, '/static/'),
                                            ('/static', None), ('static/', None), ('/a b/', None), ('/x;}/', None)])
def test_served_static_prefix(prefix, served):
    assert vocabulary.served_static(info('/srv/demo/current/src/static', prefix), '/srv/demo')['prefix'] == served


# --- app_programs --------------------------------------------------------------------------------

COMMAND = '/srv/demo/current/venv/bin/python /srv/demo/launcher/webops_tornado_launcher.py --port {port}'


def test_app_programs_one_per_port():
    programs = vocabulary.app_programs([8000, 8001], 'demo', 'ports', 2, COMMAND, '/srv/demo/current/src')
    assert [p['name'] for p in programs] == ['demo-8000', 'demo-8001']
    assert programs[1] == {'name': 'demo-8001', 'port': 8001, 'command': COMMAND.replace('{port}', '8001'),
                           'directory': '/srv/demo/current/src'}


@pytest.mark.parametrize('model', ['fork', 'development', 'ports'])
def test_app_programs_single_port_models(model):
    programs = vocabulary.app_programs([8000], 'demo', model, 4, COMMAND, '/d')
    assert [p['name'] for p in programs] == ['demo-8000']


def test_app_programs_reuse_port_shares_the_port():
    programs = vocabulary.app_programs([8000], 'demo', 'reuse_port', 3, COMMAND, '/d')
    assert [(p['name'], p['port']) for p in programs] == [('demo-8000-0', 8000), ('demo-8000-1', 8000), ('demo-8000-2', 8000)]
    assert len(set(p['command'] for p in programs)) == 1


def test_app_programs_expect_argv_gets_the_port():
    programs = vocabulary.app_programs(['8000'], 'cmd', 'ports', 1, COMMAND, '/d', ['python', 'app.py', '--port={port}'])
    assert programs[0]['port'] == 8000 and programs[0]['expect_argv'] == ['python', 'app.py', '--port=8000']
    assert 'expect_argv' not in vocabulary.app_programs([8000], 'x', 'ports', 1, COMMAND, '/d', None)[0]


# --- nginx_sites, nginx_site_problems ------------------------------------------------------------------

def _export(name, port, address='10.0.1.11', grace=10):
    return {'name': name, 'backends': [{'port': port, 'address': address}], 'stop_grace_seconds': grace}


EXPORTS = [
    {'host': 'app1', 'ansible_host': 'app1', 'export': _export('shop', 8000)},
    {'host': 'app1', 'ansible_host': 'app1', 'export': _export('blog', 8100)},
    {'host': 'app2', 'ansible_host': 'app2', 'export': _export('shop', 8000, '10.0.1.12')},
]
DEFAULTS = {'nginx_server_name': '_', 'nginx_tls_self_signed': False, 'nginx_tls_acme': False,
            'nginx_tls_certificate': '', 'nginx_tls_certificate_file': ''}
LAYOUT = {'site': 'sites-available/{name}.conf', 'key': 'tls/{name}.key'}


def test_nginx_sites_gives_each_app_its_own_upstream_settings_and_files():
    apps = [{'app_name': 'blog', 'nginx_server_name': 'blog.example.com', 'nginx_tls_acme': 'yes', 'app_ports': [8100]},
            {'app_name': 'unexported', 'nginx_server_name': 'x.example.com'}]
    sites = vocabulary.nginx_sites(EXPORTS, apps, DEFAULTS, 'app1', LAYOUT)
    # the apps' order first (blog is the default server), then the order of the app hosts; an app no
    # host exports has no site
    assert [site['name'] for site in sites] == ['blog', 'shop']
    assert [site['default_server'] for site in sites] == [True, False]
    blog, shop = sites
    assert blog['upstream']['servers'] == ['10.0.1.11:8100']
    assert shop['upstream']['servers'] == ['10.0.1.11:8000', '10.0.1.12:8000']
    assert blog['settings'] == dict(DEFAULTS, nginx_server_name='blog.example.com', nginx_tls_acme='yes')
    assert shop['settings'] == DEFAULTS
    assert (blog['tls'], blog['acme'], shop['tls'], shop['acme']) == (True, True, False, False)
    assert blog['files'] == {'site': 'sites-available/blog.conf', 'key': 'tls/blog.key'}
    # this host (app1) runs both apps: each site's static files are its own
    assert blog['local'] == EXPORTS[1]['export'] and shop['local'] == EXPORTS[0]['export']
    assert shop['exports'] == [EXPORTS[0]['export'], EXPORTS[2]['export']]
    assert vocabulary.nginx_sites(EXPORTS, [], DEFAULTS, 'lb1', LAYOUT)[0]['local'] is None


@pytest.mark.parametrize('name, expected', [('shop', 'shop'), ('My-App.v2', 'my_app_v2'), ('a_b', 'a_b')])
def test_nginx_sites_names_each_site_as_nginx_variables_take_it(name, expected):
    exports = [{'host': 'app1', 'ansible_host': 'app1', 'export': _export(name, 8000)}]
    assert vocabulary.nginx_sites(exports, [], DEFAULTS, 'lb1')[0]['id'] == expected


@pytest.mark.parametrize('apps, problem', [
    ({'app_name': 'shop'}, 'tornado_apps must be a list of apps'),
    (['shop'], 'tornado_apps[0] must be a mapping with app_name'),
    ([{'app_name': 7}], 'tornado_apps[0] must be a mapping with app_name'),
    ([{'app_name': 'shop'}, {'app_name': 'shop'}], 'tornado_apps[1] (shop): app_name shop is given twice.'),
    ([{'app_name': 'shop', 'nginx_worker_processes': 2}],
     'tornado_apps[0] (shop): nginx_worker_processes is a setting of the whole load balancer, not of one app'),
])
def test_nginx_site_problems_names_the_entry_and_the_key(apps, problem):
    problems = vocabulary.nginx_site_problems(apps, ['nginx_server_name'], ['shop'])
    assert len(problems) == 1 and problems[0].startswith(problem), problems


def test_nginx_site_problems_refuses_apps_nginx_would_name_alike():
    problems = vocabulary.nginx_site_problems([], [], ['my-app', 'My_App', 'shop'], 'nginx_apps')
    assert problems == ['The apps My_App and my-app share one nginx name (my_app): give them names that differ in '
                        'more than case and punctuation.']
    assert vocabulary.nginx_site_problems([{'app_name': 'shop', 'nginx_server_name': 'a', 'app_ports': [1]}],
                                          ['nginx_server_name'], ['shop']) == []


@pytest.mark.parametrize('shop, blog, shared', [
    ('shop.example.com www.example.com', 'WWW.example.com blog.example.com', 'www.example.com'),
    ('_', '_', '_'),
    ('a.example.com', 'a.example.com', 'a.example.com'),
])
def test_nginx_site_problems_refuses_a_server_name_two_apps_answer_to(shop, blog, shared):
    sites = [{'name': 'shop', 'settings': {'nginx_server_name': shop}},
             {'name': 'blog', 'settings': {'nginx_server_name': blog}}]
    problems = vocabulary.nginx_site_problems([], [], ['shop', 'blog'], 'tornado_apps', sites)
    assert problems == ['The apps shop and blog both answer to the server name %s (nginx_server_name): nginx would '
                        'send all of its requests to shop. Give each app its own names in tornado_apps.' % shared]


def test_nginx_site_problems_accepts_apps_with_names_of_their_own():
    sites = [{'name': 'shop', 'settings': {'nginx_server_name': 'shop.example.com'}},
             {'name': 'blog', 'settings': {'nginx_server_name': 'blog.example.com shop.example.org'}}]
    assert vocabulary.nginx_site_problems([], [], ['shop', 'blog'], 'tornado_apps', sites) == []


def test_every_per_app_setting_is_bound_for_each_site():
    """tasks/sites.yml binds each key of vars/main.yml __nginx_site_keys, and nothing else of the role's inputs."""
    import os
    import yaml
    role = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'roles', 'nginx')
    with open(os.path.join(role, 'vars', 'main.yml')) as handle:
        keys = yaml.safe_load(handle)['__nginx_site_keys']
    with open(os.path.join(role, 'tasks', 'sites.yml')) as handle:
        bound = yaml.safe_load(handle)[0]['vars']
    assert sorted(bound) == sorted(keys)
    assert all(bound[key] == '{{ __nginx_site.settings.%s }}' % key for key in keys)


def test_nginx_retired_files_are_those_of_the_apps_no_longer_served():
    sites = vocabulary.nginx_sites(EXPORTS, [], DEFAULTS, 'lb1', LAYOUT)
    assert vocabulary.nginx_retired_files(['shop', 'old', 'blog', 'gone'], sites, LAYOUT) == [
        'sites-available/gone.conf', 'tls/gone.key', 'sites-available/old.conf', 'tls/old.key']
    assert vocabulary.nginx_retired_files(['shop'], sites, LAYOUT) == []
    # a stray file in the role's tree (".conf", "../x.conf") names no app: nothing of it is removed
    assert vocabulary.nginx_retired_files(['', '.', '..', '../etc', 'a b', '-x'], sites, LAYOUT) == []


FULL_LAYOUT = {'site': 'sites-available/{name}.conf', 'link': 'sites-enabled/{name}.conf',
               'maintenance': 'webops-tornado-maintenance/{name}.conf', 'certificate': 'tls/{name}.crt', 'key': 'tls/{name}.key'}


def test_nginx_site_files_render_each_site_with_its_own_settings_in_order():
    apps = [{'app_name': 'blog', 'nginx_server_name': 'blog.example.com', 'nginx_tls_self_signed': True}]
    sites = vocabulary.nginx_sites(EXPORTS, apps, DEFAULTS, 'lb1', FULL_LAYOUT)
    maintenance = {'blog': {'on': True, 'text': None}, 'shop': {'on': False, 'text': 'geo $tornado_maintenance_shop {}\n'}}
    pairs = {'blog': {'pair': {'certificate': 'CERT\n\n', 'key': 'KEY'}}}
    items = vocabulary.nginx_site_files(sites, maintenance, pairs)
    assert [item['dest'] for item in items] == [
        'tls/blog.crt', 'sites-available/blog.conf', 'webops-tornado-maintenance/blog.conf', 'sites-enabled/blog.conf',
        'sites-available/shop.conf', 'webops-tornado-maintenance/shop.conf', 'sites-enabled/shop.conf']
    assert all(item['owner'] == item['group'] == 'root' for item in items)
    certificate, blog_site, blog_flag, blog_link, shop_site, shop_flag, shop_link = items
    assert certificate['content'] == 'CERT\n' and certificate['mode'] == '0644'
    # The templates see the site, its settings as the plain variables and its maintenance mode.
    assert blog_site['src'] == 'etc/nginx/sites-available/app.conf.j2' and blog_site['mode'] == '0644'
    assert blog_site['vars']['__nginx_site'] is sites[0] and blog_site['vars']['nginx_server_name'] == 'blog.example.com'
    assert blog_site['vars']['__nginx_maintenance_on'] is True and shop_site['vars']['nginx_server_name'] == '_'
    # A flag in force is written as it is; a missing one (None) is rendered with the mode it had.
    assert blog_flag['src'] == 'etc/nginx/maintenance.conf.j2' and blog_flag['vars'] == blog_site['vars']
    assert shop_flag['content'] == maintenance['shop']['text'] and 'src' not in shop_flag
    assert blog_link == {'dest': 'sites-enabled/blog.conf', 'state': 'link', 'target': '../sites-available/blog.conf',
                         'owner': 'root', 'group': 'root'}
    assert shop_link['target'] == '../sites-available/shop.conf'
    # The private keys are never among them, only on their own.
    assert not any('KEY' in str(item.get('content')) for item in items)
    assert vocabulary.nginx_site_files(sites, maintenance, pairs, keys=True) == [
        {'dest': 'tls/blog.key', 'content': 'KEY\n', 'mode': '0600', 'owner': 'root', 'group': 'root'}]
    assert vocabulary.nginx_site_files([], {}) == [] and vocabulary.nginx_site_files(sites[1:], maintenance, keys=True) == []


# --- app_entry and app_entry_problems ------------------------------------------------------------

APPS = [{'app_name': 'shop', 'nginx_server_name': 'shop.example.com'},
        {'app_name': 'blog', 'app_ports': [8100, 8101], 'app_git_repo': 'https://git.example.com/blog.git',
         'nginx_server_name': 'blog.example.com'}]


def test_app_entry_gives_the_app_keys_of_the_hosts_app_only():
    assert vocabulary.app_entry(APPS, 'blog') == {'app_ports': [8100, 8101], 'app_git_repo': 'https://git.example.com/blog.git'}
    assert vocabulary.app_entry(APPS, 'shop') == {}
    assert vocabulary.app_entry(APPS, 'nope') == {}
    assert vocabulary.app_entry('not a list', 'blog') == {} and vocabulary.app_entry([None, 'x'], 'blog') == {}


@pytest.mark.parametrize('entry, problem', [
    ({'app_name': 'blog', 'app_prots': [1]}, 'tornado_apps[0] (blog): app_prots is not a variable of webops.tornado.app'),
    ({'app_name': 'blog', 'supervisor_minfds': 1}, 'tornado_apps[0] (blog): supervisor_minfds is not a variable'),
    ({'app_name': 'blog', 'app_rollback_to': 'previous'}, 'tornado_apps[0] (blog): app_rollback_to is an option of one run'),
    ({'app_name': 'blog', 3: 'x'}, 'tornado_apps[0] (blog): 3 is not a variable'),
])
def test_app_entry_problems_names_the_entry_and_the_key(entry, problem):
    problems = vocabulary.app_entry_problems([entry], ['app_ports', 'app_rollback_to'])
    assert len(problems) == 1 and problems[0].startswith(problem), problems


def test_app_entry_problems_leaves_nginx_keys_and_bad_entries_to_nginx():
    assert vocabulary.app_entry_problems(APPS + ['x', {'name': 'y'}], ['app_ports', 'app_git_repo']) == []
