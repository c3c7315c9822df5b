# Stdout callback for the compatibility harness: one JSON object per line per task result,
# the shape compat.py reads (ansible-core 2.14 ships no json callback; it is in ansible.posix).
import json

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = '''
name: compat_json
type: stdout
short_description: one JSON line per task result
description: [one JSON line per task result, for test/compat/compat.py]
'''


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'stdout'
    CALLBACK_NAME = 'compat_json'

    def _emit(self, ev):
        self._display.display(json.dumps(ev, default=str))

    def v2_playbook_on_play_start(self, play):
        self._emit({'type': 'play_start', 'name': play.get_name()})

    def _result(self, result, status):
        r = result._result
        self._emit({'type': 'host_result', 'host': result._host.get_name(), 'task': result._task.get_name(),
                    'action': result._task.action, 'status': status, 'msg': str(r.get('msg', ''))[:500]})

    def v2_runner_on_ok(self, result):
        self._result(result, 'changed' if result._result.get('changed') else 'ok')

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._result(result, 'ignored' if ignore_errors else 'failed')

    def v2_runner_on_skipped(self, result):
        self._result(result, 'skipped')

    def v2_runner_on_unreachable(self, result):
        self._result(result, 'unreachable')
