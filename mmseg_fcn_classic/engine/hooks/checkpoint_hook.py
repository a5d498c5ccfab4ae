"""mmengine's CheckpointHook, made safe against kills and against hostile work dirs."""
import hashlib
import os.path as osp
import pickle
from contextlib import nullcontext
from typing import Any, ContextManager, List, Optional, Tuple

from mmengine.dist import (broadcast_object_list, get_world_size, is_main_process,
                           master_only)
from mmengine.hooks import CheckpointHook
from mmengine.optim import OptimWrapper
from mmseg.registry import HOOKS

from ...utils.quiet import dropped_log_records
from ..atomic_io import BACKEND_NAME, AtomicLocalBackend, remove_stale_temp_files
from ..policy import load_checkpoint_file, plain_local_path, scheme_of
from ..resume import ResumeError, check_resumable, select_resume_checkpoint
from ..work_dir_lock import WorkDirLockedError, lock_work_dir, release_work_dir

#: What mmengine's ``FileClient`` logs whenever it is built (mmengine 0.10.7; see
#: ``AtomicCheckpointHook._unused_file_client``).
FILE_CLIENT_DEPRECATIONS = (r'^"FileClient" will be deprecated in future',
                            r'^"HardDiskBackend" is the alias of "LocalBackend"')


class _DeferredRemovals:
    """A file backend whose ``remove`` / ``rmtree`` calls are only recorded
    (in ``pending``), for the caller to perform once the new files are written."""

    def __init__(self, backend) -> None:
        self.backend = backend
        self.pending: List[Tuple[str, str]] = []

    def remove(self, path: str) -> None:
        self.pending.append(('remove', path))

    def rmtree(self, path: str) -> None:
        self.pending.append(('rmtree', path))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.backend, name)


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """Save checkpoints so that a kill at any moment loses nothing resumable.

    Takes every argument of mmengine's :class:`~mmengine.hooks.CheckpointHook`
    (``interval``, ``by_epoch``, ``max_keep_ckpts``, ``save_last``, ``save_best``,
    ``published_keys``, ...) and writes the same files; what changes is the order
    and the way they are written. mmengine deletes the oldest checkpoint before
    writing the new one with a plain ``open('wb')`` and then overwrites
    ``last_checkpoint`` in place, so a kill mid-save can leave nothing to resume.
    Here:

    * every save still goes through ``runner.save_checkpoint`` (so
      ``before_save_checkpoint`` hooks run), into the ``atomic_local`` file backend
      (:mod:`..atomic_io`) unless ``backend_args`` names another backend: a
      checkpoint file is complete or absent;
    * ``last_checkpoint`` is replaced atomically, after the checkpoint is complete;
    * old checkpoints (``max_keep_ckpts``) and the previous best checkpoint are
      removed only after that;
    * temporary files an interrupted save left behind are removed before training
      (never those of a live process);
    * rank 0 holds the work dir from ``before_run`` to ``after_run``
      (:mod:`..work_dir_lock`): a second run on it stops at once, on every rank;
    * a failed save (a full disk) raises an ``OSError`` naming the checkpoint and
      saying that the previous one is intact.

    On resume it also checks what it reads: a checkpoint that cannot resume this
    run (a bare state dict, another optimizer) is an error naming the file; paths
    in the resumed message hub must be plain local paths, and old checkpoints are
    only ever removed from this hook's own folder. ``Runner(resume=True,
    load_from=None)`` picks its checkpoint as a bare ``--resume`` does
    (:func:`~..resume.select_resume_checkpoint`) instead of trusting
    ``last_checkpoint``.

    Example:
        >>> default_hooks = dict(checkpoint=dict(
        ...     type='AtomicCheckpointHook', by_epoch=False, interval=4000))
    """

    def before_run(self, runner) -> None:
        self._lock_work_dir(runner)
        # mmengine would pass the text of last_checkpoint to the loader unchecked
        if getattr(runner, '_resume', False) and runner._load_from is None:
            path = select_resume_checkpoint(runner.work_dir)
            if path is None:
                runner._resume = False
            runner._load_from = path

    @staticmethod
    def _lock_work_dir(runner) -> None:
        """Rank 0 holds the work dir (:mod:`..work_dir_lock`); if another live run
        holds it, every rank stops."""
        error = None
        if is_main_process():
            try:
                lock_work_dir(runner.work_dir, runner.logger)
            except WorkDirLockedError as err:
                error = str(err)
        if get_world_size() > 1:
            shared = [error]
            broadcast_object_list(shared, src=0)
            error = shared[0]
        if error:
            raise WorkDirLockedError(error)

    def before_train(self, runner) -> None:
        out_dir = str(self.out_dir if self.out_dir is not None else runner.work_dir)
        if (self.backend_args is None and self.file_client_args is None
                and '://' not in out_dir):
            self.backend_args = dict(backend=BACKEND_NAME)
        self._check_resumed_paths(runner)
        with self._unused_file_client():
            super().before_train(runner)
        if not isinstance(self.file_backend, AtomicLocalBackend):
            runner.logger.warning(
                f'{type(self).__name__}: checkpoints go through backend_args='
                f'{self.backend_args} / file_client_args={self.file_client_args}; '
                'whether a save is atomic is up to that backend.')
        if getattr(self, 'best_ckpt_path', None) is not None:
            self.best_ckpt_path = self._confine(self.best_ckpt_path)
        for key, path in (getattr(self, 'best_ckpt_path_dict', None) or {}).items():
            self.best_ckpt_path_dict[key] = self._confine(path)
        if is_main_process():
            folders = {self.out_dir, runner.work_dir} if '://' not in str(
                self.out_dir) else {runner.work_dir}
            for folder in sorted(folders):
                for path in remove_stale_temp_files(folder):
                    runner.logger.warning(f'removed {path}, left by a save that was '
                                          'interrupted')

    def _unused_file_client(self) -> ContextManager:
        """Around a call of mmengine's that builds a ``FileClient`` it does not use.

        mmengine 0.10.7 builds a ``FileClient`` in ``CheckpointHook.before_train``
        and in every ``save_checkpoint``, for compatibility only: without
        ``file_client_args`` it writes through ``backend_args``' file backend. Each
        time, ``FileClient`` warns that it (and its ``disk`` backend) will be
        deprecated: nothing a user can change. Only those two messages are dropped,
        only around such a call, and only without ``file_client_args`` (which are
        the user's to replace with ``backend_args``).
        """
        if self.file_client_args is not None:
            return nullcontext()
        return dropped_log_records(None, *FILE_CLIENT_DEPRECATIONS)

    def after_run(self, runner) -> None:
        if is_main_process():
            release_work_dir(runner.work_dir)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        if not getattr(runner, '_resume', False):
            return
        optim_wrapper = getattr(runner, 'optim_wrapper', None)
        optimizer = (optim_wrapper.optimizer
                     if isinstance(optim_wrapper, OptimWrapper) else None)
        check_resumable(checkpoint, runner._load_from or 'the latest checkpoint',
                        optimizer)

    def _check_resumed_paths(self, runner) -> None:
        """Paths and ids the resumed message hub gives this hook must be plain."""
        info = runner.message_hub.runtime_info
        source = (f'the resumed checkpoint {runner._load_from} (message hub)'
                  if getattr(runner, '_load_from', None) else 'the message hub')
        for key, value in info.items():
            if key == 'last_ckpt' or key == 'best_ckpt' or key.startswith('best_ckpt_'):
                if value is not None:
                    plain_local_path(str(value), f'{source}[{key!r}]')
        ids = info.get('keep_ckpt_ids', [])
        if not all(isinstance(i, int) for i in ids):
            raise ResumeError(f'{source}: keep_ckpt_ids must be checkpoint steps '
                              f'(integers), got {ids!r}')

    def _confine(self, path: Optional[str]) -> Optional[str]:
        """A checkpoint path from the message hub, moved into this hook's folder
        (the only folder it removes files from)."""
        if path is None:
            return None
        return self.file_backend.join_path(self.out_dir, osp.basename(str(path)))

    def _remove(self, path: str) -> None:
        if self.file_backend.isfile(path):
            self.file_backend.remove(path)
        elif self.file_backend.isdir(path):  # checkpoints saved by deepspeed
            self.file_backend.rmtree(path)

    def _atomic_backend(self) -> AtomicLocalBackend:
        backend = getattr(self.file_backend, 'backend', self.file_backend)
        if isinstance(backend, AtomicLocalBackend):
            return backend
        return AtomicLocalBackend()

    def write_last_checkpoint(self, runner) -> None:
        """Point ``WORK_DIR/last_checkpoint`` at the checkpoint just saved, atomically."""
        self._atomic_backend().put_text(
            str(self.last_ckpt), osp.join(runner.work_dir, 'last_checkpoint'))

    def _save_checkpoint_with_step(self, runner, step, meta) -> None:
        # mmengine's bookkeeping, but the outdated checkpoint is removed after the new
        # one and last_checkpoint are written. The new checkpoint still lists it in
        # keep_ckpt_ids, so a run resumed after a kill before the removal removes it
        # (mmengine's before_train drops ids beyond max_keep_ckpts).
        outdated = None
        if self.max_keep_ckpts > 0 and not (
                self.keep_ckpt_ids and self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                outdated = self.keep_ckpt_ids.popleft()
            self.keep_ckpt_ids.append(step)
            pending = [outdated] if outdated is not None else []
            runner.message_hub.update_info('keep_ckpt_ids',
                                           pending + list(self.keep_ckpt_ids))

        ckpt_filename = self.filename_tmpl.format(step)
        previous = getattr(self, 'last_ckpt', None)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, ckpt_filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        try:
            with self._unused_file_client():
                runner.save_checkpoint(
                    self.out_dir,
                    ckpt_filename,
                    self.file_client_args,
                    save_optimizer=self.save_optimizer,
                    save_param_scheduler=self.save_param_scheduler,
                    meta=meta,
                    by_epoch=self.by_epoch,
                    backend_args=self.backend_args,
                    **self.args)
            if is_main_process():
                self.write_last_checkpoint(runner)
        except OSError as err:
            raise self._save_failed(err, self.last_ckpt, previous) from err
        if is_main_process():
            if outdated is not None and outdated != step:
                self._remove(self.file_backend.join_path(
                    self.out_dir, self.filename_tmpl.format(outdated)))
        if self.max_keep_ckpts > 0:
            runner.message_hub.update_info('keep_ckpt_ids', list(self.keep_ckpt_ids))

    @staticmethod
    def _save_failed(err: OSError, path: str, previous: Optional[str]) -> OSError:
        """The error of a failed save: what failed, and what is still there."""
        cause = err.__cause__ if isinstance(err.__cause__, OSError) else err
        reason = cause.strerror or str(cause)
        kept = (f'the previous checkpoint {previous} is intact and last_checkpoint '
                'still names it' if previous else
                'no earlier checkpoint of this run was touched')
        return OSError(err.errno, f'{reason}: could not save checkpoint {path}; nothing '
                       f'was replaced or removed: {kept}. Free space (or fix the '
                       'folder), then continue with --resume.', path)

    def _save_best_checkpoint(self, runner, metrics) -> None:
        # mmengine removes the previous best before saving the new one: defer that
        deferred = _DeferredRemovals(self.file_backend)
        self.file_backend = deferred
        try:
            with self._unused_file_client():
                super()._save_best_checkpoint(runner, metrics)
        finally:
            self.file_backend = deferred.backend
        keep = {self.last_ckpt, getattr(self, 'best_ckpt_path', None),
                *(getattr(self, 'best_ckpt_path_dict', None) or {}).values()}
        for op, path in deferred.pending:
            if path not in keep:
                getattr(self.file_backend, op)(path)

    @master_only
    def _publish_model(self, runner, ckpt_path: str) -> None:
        # mmengine's, saving through this hook's (atomic) backend; the checkpoint is
        # this run's own, so its stored config is copied as it is
        from mmengine.runner import save_checkpoint
        from mmengine.runner.checkpoint import _load_checkpoint
        if scheme_of(ckpt_path) is None:
            checkpoint = load_checkpoint_file(ckpt_path, map_location='cpu',
                                              keep_stored_configs=True)
        else:
            checkpoint = _load_checkpoint(ckpt_path)
        removed = [key for key in list(checkpoint) if key not in self.published_keys]
        for key in removed:
            checkpoint.pop(key)
        if removed:
            runner.logger.info(f'Key {removed} will be removed because they are not '
                               'found in published_keys.')
        sha = hashlib.sha256(pickle.dumps(checkpoint)).hexdigest()
        final_path = osp.splitext(ckpt_path)[0] + f'-{sha[:8]}.pth'
        with dropped_log_records(None, *FILE_CLIENT_DEPRECATIONS):  # it is unused
            save_checkpoint(checkpoint, final_path, backend_args=self.backend_args)
        runner.logger.info(f'The checkpoint ({ckpt_path}) is published to {final_path}.')
