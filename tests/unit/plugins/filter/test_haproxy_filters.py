# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the HAProxy vocabulary: backend and server names, the backends of a load balancer, and the
haproxy_ settings of an app's entry (nginx_site_problems with the haproxy_ prefix, app_entry_problems)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.webops.tornado.plugins.filter import vocabulary


def export(name, ports, address='127.0.0.1', health_path='/healthz'):
    return {'name': name, 'health_path': health_path, 'backends': [{'address': address, 'port': port} for port in ports]}


def test_the_backends_of_two_apps_one_server_per_process():
    exports = [{'host': 'app1', 'export': export('shop', [8000, 8001], '10.0.0.11')},
               {'host': 'app2', 'export': export('shop', [8000], 'fd00::12', '/up')},
               {'host': 'app3', 'export': export('blog', [8100], '0.0.0.0'), 'ansible_host': '10.0.0.13'}]
    sites = vocabulary.nginx_sites(exports, [{'app_name': 'blog'}], {'haproxy_server_name': '_'}, 'lb1', prefix='haproxy_')
    blocks = vocabulary.haproxy_backends(sites)
    assert [(b['name'], b['site'], b['health_path']) for b in blocks] == [('app-blog', 'blog', '/healthz'),
                                                                          ('app-shop', 'shop', '/healthz')]
    assert [(s['name'], s['endpoint'], s['host'], s['address']) for s in blocks[1]['servers']] == [
        ('app1_8000', '10.0.0.11:8000', 'app1', '10.0.0.11'), ('app1_8001', '10.0.0.11:8001', 'app1', '10.0.0.11'),
        ('app2_8000', '[fd00::12]:8000', 'app2', 'fd00::12')]
    assert blocks[0]['servers'] == [{'name': 'app3_8100', 'endpoint': '10.0.0.13:8100', 'host': 'app3', 'address': '10.0.0.13',
                                     'port': 8100, 'health_path': '/healthz', 'haproxy_backend': 'app-blog',
                                     'haproxy_server': 'app3_8100'}]


def test_tls_follows_the_haproxy_settings_with_the_prefix():
    exports = [{'host': 'app1', 'export': export('shop', [8000])}]
    assert vocabulary.nginx_sites(exports, [], {'haproxy_tls_self_signed': True}, 'lb1', prefix='haproxy_')[0]['tls']
    assert not vocabulary.nginx_sites(exports, [], {'haproxy_tls_self_signed': True}, 'lb1')[0]['tls']


def test_an_entry_may_set_haproxy_settings_of_its_site_only():
    apps = [{'app_name': 'shop', 'haproxy_server_name': 'shop.example.com', 'haproxy_maxconn': 10, 'nginx_worker_processes': 2}]
    problems = vocabulary.nginx_site_problems(apps, ['haproxy_server_name'], [], prefix='haproxy_')
    assert problems == ['tornado_apps[0] (shop): haproxy_maxconn is a setting of the whole load balancer, not of one app: '
                        'set it as a variable of the load-balancer hosts.']
    assert vocabulary.app_entry_problems(apps, ['app_ports']) == []


def test_two_apps_with_one_name_are_named_as_haproxy_settings():
    exports = [{'host': 'app1', 'export': export('shop', [8000])}, {'host': 'app2', 'export': export('blog', [8000])}]
    apps = [{'app_name': 'shop', 'haproxy_server_name': 'www.example.com'}, {'app_name': 'blog', 'haproxy_server_name': 'WWW.example.com'}]
    sites = vocabulary.nginx_sites(exports, apps, {'haproxy_server_name': '_'}, 'lb1', prefix='haproxy_')
    problems = vocabulary.nginx_site_problems(apps, ['haproxy_server_name'], ['shop', 'blog'], sites=sites, prefix='haproxy_')
    assert problems == ['The apps shop and blog both answer to the server name www.example.com (haproxy_server_name): haproxy '
                        'would send all of its requests to shop. Give each app its own names in tornado_apps.']


@given(host=st.text(min_size=1, max_size=64), port=st.integers(1, 65535))
def test_a_server_name_is_always_one_haproxy_takes(host, port):
    name = vocabulary.haproxy_server_name(host, port)
    assert re.fullmatch(r'[A-Za-z0-9_.:-]+_[0-9]+', name)
    assert name.endswith('_%d' % port)
    assert vocabulary.haproxy_server_name(host, port) == name
