"""The part of `tf.summary` that Keras's TensorBoard callback calls at update_freq="epoch" (create_file_writer,
as_default, scalar), written with tensorboard's own event writer and protos, as TF2 writes scalars (tensor values,
plugin "scalars"). TensorFlow is not installed here; the callback itself runs unmodified."""

from __future__ import annotations

import contextlib
import time

import numpy as np

from tensorboard.compat.proto import event_pb2, summary_pb2, tensor_pb2, tensor_shape_pb2, types_pb2
from tensorboard.summary.writer.event_file_writer import EventFileWriter

_DEFAULT: list["FileWriter"] = []


class FileWriter:
    """One event file in a folder, like tf.summary.create_file_writer."""

    def __init__(self, logdir: str) -> None:
        self._writer = EventFileWriter(logdir, filename_suffix=".suite")

    @contextlib.contextmanager
    def as_default(self, step=None):
        """Make this the writer that `scalar` uses."""
        _DEFAULT.append(self)
        try:
            yield self
        finally:
            _DEFAULT.pop()

    def write_scalar(self, name: str, value: float, step: int) -> None:
        """One TF2-style scalar summary event."""
        metadata = summary_pb2.SummaryMetadata(plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="scalars"),
                                               data_class=summary_pb2.DATA_CLASS_SCALAR)
        tensor = tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT, tensor_shape=tensor_shape_pb2.TensorShapeProto(),
                                        float_val=[float(value)])
        summary = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=name, metadata=metadata, tensor=tensor)])
        self._writer.add_event(event_pb2.Event(wall_time=time.time(), step=int(step), summary=summary))

    def flush(self) -> None:
        """Write buffered events."""
        self._writer.flush()

    def close(self) -> None:
        """Flush and close the file."""
        self._writer.close()


class SummaryModule:
    """Stands in for the `tensorflow.summary` module."""

    create_file_writer = FileWriter

    @staticmethod
    def scalar(name: str, data, step=None, description=None) -> bool:
        """Write to the writer made default by `as_default`."""
        if not _DEFAULT:
            return False
        _DEFAULT[-1].write_scalar(name, float(np.asarray(data)), int(np.asarray(step)) if step is not None else 0)
        return True

    @staticmethod
    @contextlib.contextmanager
    def record_if(condition):
        """Recording is always on at epoch granularity."""
        yield
