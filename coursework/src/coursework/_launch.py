"""Starts a graded kernel: joins its cgroups, sets its rlimits, then becomes the command (bubblewrap or the kernel).

Run by :class:`coursework.sandbox.Sandbox` as ``python -I -S _launch.py CONFIG.json -- COMMAND...``, outside the
sandbox and before any of the notebook's code, so that every process the kernel starts inherits both. It uses
the standard library only.
"""

import json
import os
import resource
import sys


def main() -> None:
    config_path, separator, *command = sys.argv[1:]
    if separator != "--" or not command:
        sys.exit("usage: _launch.py CONFIG.json -- COMMAND...")
    with open(config_path, encoding="utf-8") as f:
        config = json.load(f)
    for folder in config["cgroups"]:
        with open(os.path.join(folder, "cgroup.procs"), "w") as f:
            f.write(str(os.getpid()))
    for name, value in config["rlimits"].items():
        resource.setrlimit(getattr(resource, name), (value, value))
    os.execv(command[0], command)


if __name__ == "__main__":
    main()
