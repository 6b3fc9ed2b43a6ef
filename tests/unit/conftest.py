# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Make `ansible_collections.webops.tornado` importable when pytest runs from a plain checkout.

ansible-test does this by running from inside `ansible_collections/webops/tornado`; a developer's
checkout is just `tornado/`, so we point at (and if needed create) the symlink the test scripts use.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
parts = REPO.split(os.sep)
if parts[-3:-1] == ["ansible_collections", "webops"]:
    ROOT = os.sep.join(parts[:-3])
else:
    ROOT = os.path.join(REPO, ".build", "collections")
    link = os.path.join(ROOT, "ansible_collections", "webops", "tornado")
    if not os.path.exists(link):
        os.makedirs(os.path.dirname(link), exist_ok=True)
        os.symlink(REPO, link)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

# Install ansible-core's collection loader (as ansible-test's pytest plugin does), so plugins can be
# loaded by FQCN through the plugin loaders and read their documented options.
from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder  # noqa: E402

_AnsibleCollectionFinder(paths=[ROOT])._install()

# Hypothesis profiles (tests/unit/README.md): "ci" (the default) is derandomized and keeps no example
# database, so every run tries the same examples; "long" is random and remembers failures in .hypothesis/.
# WEBOPS_TORNADO_HYPOTHESIS chooses the profile; WEBOPS_TORNADO_EXAMPLES multiplies each test's examples
# (each test module reads it).
# "ci" does not shrink a failing example (a render takes a second; shrinking one can take minutes): the
# test's notes say which inputs were refused and which accepted. "long" shrinks.
from hypothesis import HealthCheck, Phase, settings  # noqa: E402

_SLOW_OK = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]
settings.register_profile('ci', derandomize=True, database=None, deadline=None, print_blob=False, suppress_health_check=_SLOW_OK,
                          phases=[Phase.explicit, Phase.generate])
settings.register_profile('long', deadline=None, print_blob=True, suppress_health_check=_SLOW_OK)
settings.load_profile(os.environ.get('WEBOPS_TORNADO_HYPOTHESIS', 'ci'))
