# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the nofile_ceiling module's parsing and decision logic."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.webops.tornado.plugins.module_utils import nofile as mod

LIMITS = """Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            1024                 16384                files
Max locked memory         8388608              8388608              bytes
"""

STATUS_NO_RESOURCE = "Name:\tsystemd\nCapPrm:\t000001fffeffffff\nCapEff:\t000001fffeffffff\n"
STATUS_ALL = "Name:\tsystemd\nCapEff:\t000001ffffffffff\n"


def test_parse_nofile_limits():
    assert mod.parse_nofile_limits(LIMITS) == (1024, 16384)


def test_parse_nofile_limits_unlimited():
    text = "Max open files            unlimited            unlimited            files\n"
    assert mod.parse_nofile_limits(text) == (None, None)


def test_parse_nofile_limits_missing_line():
    with pytest.raises(ValueError):
        mod.parse_nofile_limits("Max cpu time unlimited unlimited seconds\n")


@pytest.mark.parametrize("status, has_cap", [(STATUS_NO_RESOURCE, False), (STATUS_ALL, True)])
def test_cap_sys_resource_bit(status, has_cap):
    caps = mod.parse_effective_caps(status)
    assert bool(caps & (1 << mod.CAP_SYS_RESOURCE)) is has_cap


def test_container_without_capability_refuses_above_hard_limit():
    ok, ceiling, reason = mod.decide(50000, 16384, False, 1048576, False)
    assert not ok
    assert ceiling == 16384
    assert "50000" in reason and "16384" in reason and "CAP_SYS_RESOURCE" in reason


def test_container_without_capability_grants_at_hard_limit():
    ok, ceiling, _reason = mod.decide(16384, 16384, False, 1048576, False)
    assert ok and ceiling == 16384


def test_real_server_grants_guide_value():
    ok, ceiling, _reason = mod.decide(50000, 1024, True, 1048576, True)
    assert ok
    assert ceiling == mod.NR_OPEN_MAX


def test_capability_but_readonly_kernel_is_bound_by_nr_open():
    ok, ceiling, reason = mod.decide(2000000, 4096, True, 1048576, False)
    assert not ok
    assert ceiling == 1048576
    assert "fs.nr_open" in reason


def test_unlimited_hard_limit_grants():
    ok, ceiling, _reason = mod.decide(50000, None, False, 1048576, False)
    assert ok and ceiling is None


def test_nofile_domains_in_file_order_each_once():
    text = "# managed\n\nroot soft nofile 16384\nroot hard nofile 16384\n@ops\thard\tnofile\t9 # x\n" \
           "demo soft nproc 10\n#demo soft nofile 1\nbroken line\n"
    assert mod.nofile_domains(text) == ["root", "@ops"]


def test_nofile_domains_of_an_empty_file():
    assert mod.nofile_domains("") == []
