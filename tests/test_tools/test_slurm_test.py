"""tools/slurm_test.sh: the srun command line it launches (srun replaced by a recorder)."""
import os
import os.path as osp
import subprocess

from mmseg_fcn_classic.tools import test as test_tool

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SCRIPT = osp.join(REPO, 'tools', 'slurm_test.sh')


def test_slurm_test_runs_test_tool_per_gpu(tmp_path):
    (tmp_path / 'srun').write_text('#!/usr/bin/env bash\nprintf "%s\\n" "$@" > "$RECORD"\n')
    (tmp_path / 'srun').chmod(0o755)
    record = tmp_path / 'args.txt'
    env = dict(os.environ, PATH=f'{tmp_path}{os.pathsep}{os.environ["PATH"]}',
               RECORD=str(record), GPUS='8', GPUS_PER_NODE='4', PYTHON='python3')
    subprocess.run(['bash', SCRIPT, 'part', 'job', 'cfg.py', 'ckpt.pth', '--tta'],
                   env=env, check=True, timeout=60)
    args = record.read_text().splitlines()
    assert args[:2] == ['-p', 'part'] and '--job-name=job' in args
    assert {'--gres=gpu:4', '--ntasks=8', '--ntasks-per-node=4'} <= set(args)
    command = args[args.index('python3'):]
    assert command == ['python3', '-u', '-m', 'mmseg_fcn_classic.tools.test', 'cfg.py',
                       'ckpt.pth', '--launcher', 'slurm', '--tta']
    parsed = test_tool.parse_args(command[4:])
    assert (parsed.config, parsed.checkpoint, parsed.launcher, parsed.tta) == \
        ('cfg.py', 'ckpt.pth', 'slurm', True)


def test_slurm_test_usage(tmp_path):
    proc = subprocess.run(['bash', SCRIPT, 'part', 'job', 'cfg.py'], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 2 and 'CHECKPOINT' in proc.stderr
