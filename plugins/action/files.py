# -*- coding: utf-8 -*-
# Copyright: webops.tornado contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action for webops.tornado.files: renders each item's template on the controller, exactly as
ansible.builtin.template does (the same search path, template variables and Jinja options), then sends every
file to the module in one call, which writes only those that differ."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ansible.errors import AnsibleActionFail, AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase
from ansible.template import trust_as_template
# The same helper ansible.builtin.template and the template lookup use for template_path, ansible_managed and
# the other template variables, so a file written here is byte for byte what the template module writes.
from ansible._internal._templating import _template_vars

_KEYS = frozenset(('dest', 'state', 'target', 'src', 'vars', 'content', 'owner', 'group', 'mode', 'backup', 'validate'))


class ActionModule(ActionBase):

    TRANSFERS_FILES = False

    def render(self, src, dest, task_vars, item_vars=None):
        """The text ansible.builtin.template would write to ``dest`` from the template ``src``."""
        try:
            source = self._find_needle('templates', src)
        except AnsibleError as error:
            raise AnsibleActionFail(to_text(error))
        template_data = trust_as_template(self._loader.get_text_file_contents(source))
        searchpath = list(task_vars.get('ansible_search_path', [])) + [self._loader._basedir, os.path.dirname(source)]
        # Includes are looked up in the 'templates' directory of each path too, as the template action does.
        searchpath = [found for path in searchpath for found in (os.path.join(path, 'templates'), path)]
        template_vars = task_vars.copy()
        template_vars.update(item_vars or {})
        template_vars.update(_template_vars.generate_ansible_template_vars(
            path=src, fullpath=source, dest_path=dest, include_ansible_managed='ansible_managed' not in template_vars))
        templar = self._templar.copy_with_new_env(searchpath=searchpath, available_variables=template_vars)
        rendered = templar.template(template_data, escape_backslashes=False,
                                    overrides=dict(trim_blocks=True, lstrip_blocks=False, newline_sequence='\n'))
        return '' if rendered is None else rendered

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ActionModule, self).run(tmp, task_vars)
        files = self._task.args.get('files')
        if not isinstance(files, list) or not files:
            raise AnsibleActionFail('files: a non-empty list of files is required')
        root = self._task.args.get('root')
        if root is not None and not (isinstance(root, str) and os.path.isabs(root)):
            raise AnsibleActionFail('files: root must be an absolute path')
        unknown = sorted(set(self._task.args) - {'files', 'root'})
        if unknown:
            raise AnsibleActionFail('files: unsupported parameters: %s' % ', '.join(unknown))
        items = []
        for index, item in enumerate(files):
            if not isinstance(item, dict) or not item.get('dest'):
                raise AnsibleActionFail('files[%d]: a dict with dest is required' % index)
            extra = sorted(set(item) - _KEYS)
            if extra:
                raise AnsibleActionFail('files[%d] (%s): unsupported keys: %s' % (index, item['dest'], ', '.join(extra)))
            if root is not None and not os.path.isabs(item['dest']):
                # Joined here, not by the module alone: a template sees the path it is written to.
                item = dict(item, dest=os.path.normpath(os.path.join(root, item['dest'])))
            if item.get('state', 'file') in ('directory', 'link', 'absent'):
                items.append(dict(item))
                continue
            if ('src' in item) == ('content' in item):
                raise AnsibleActionFail('files[%d] (%s): give exactly one of src and content' % (index, item['dest']))
            resolved = dict(item)
            item_vars = resolved.pop('vars', None)
            if item_vars is not None and ('src' not in item or not isinstance(item_vars, dict)):
                raise AnsibleActionFail('files[%d] (%s): vars must be a dict, given with src' % (index, item['dest']))
            if 'src' in resolved:
                resolved['content'] = self.render(resolved.pop('src'), item['dest'], task_vars, item_vars)
            resolved['content'] = to_text(resolved['content'])
            items.append(resolved)
        result.update(self._execute_module(module_name='webops.tornado.files', module_args={'files': items},
                                           task_vars=task_vars))
        return result
