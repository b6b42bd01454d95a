"""Real Keras 3 fits (torch backend) logged by keras.callbacks.CSVLogger or keras.callbacks.TensorBoard, with the
drawn model family, optimiser and schedule; returns the epoch table the callbacks were given."""

from __future__ import annotations

import os
from pathlib import Path

from bench.transfer import plan as P
from bench.transfer.data import CLF_WEIGHT, Windows
from bench.transfer.spec import RunSpec

os.environ.setdefault("KERAS_BACKEND", "torch")


def _model(keras, spec: RunSpec, window: int, features: int):
    """The drawn family as a functional model with the task's outputs."""
    layers = keras.layers
    inputs = keras.Input((window, features))
    h = inputs
    if spec.family in ("lstm", "gru"):
        cell = layers.LSTM if spec.family == "lstm" else layers.GRU
        for i in range(spec.layers):
            h = cell(spec.hidden, return_sequences=i < spec.layers - 1)(h)
    elif spec.family == "cnn":
        for _ in range(spec.layers):
            h = layers.Conv1D(spec.hidden, 3, padding="same", activation="relu")(h)
        h = layers.GlobalAveragePooling1D()(h)
    else:
        h = layers.Flatten()(h)
        if spec.family == "mlp":
            for _ in range(spec.layers):
                h = layers.Dense(spec.hidden, activation="relu")(h)
    h = layers.Dropout(spec.dropout)(h) if spec.dropout else h
    outputs = {"ret": layers.Dense(1, name="ret")(h), "up": layers.Dense(1, activation="sigmoid", name="up")(h)}
    if spec.task == "direction":
        return keras.Model(inputs, outputs["up"])
    if spec.task == "multitask":
        return keras.Model(inputs, outputs)
    return keras.Model(inputs, outputs["ret"])


def _optimiser(keras, spec: RunSpec):
    clip = {"global_clipnorm": spec.grad_clip} if spec.grad_clip else {}
    wd = spec.weight_decay or None
    if spec.optimizer == "adam":
        return keras.optimizers.Adam(spec.lr, weight_decay=wd, **clip)
    if spec.optimizer == "adamw":
        return keras.optimizers.AdamW(spec.lr, weight_decay=spec.weight_decay, **clip)
    if spec.optimizer == "rmsprop":
        return keras.optimizers.RMSprop(spec.lr, weight_decay=wd, **clip)
    return keras.optimizers.SGD(spec.lr, momentum=0.9 if spec.optimizer == "sgd_momentum" else 0.0, weight_decay=wd, **clip)


def _compile(keras, spec: RunSpec, model) -> None:
    if spec.task == "direction":
        model.compile(_optimiser(keras, spec), "binary_crossentropy", metrics=["accuracy"])
    elif spec.task == "multitask":
        model.compile(_optimiser(keras, spec), {"ret": "mse", "up": "binary_crossentropy"}, loss_weights={"ret": 1.0, "up": CLF_WEIGHT},
                      metrics={"up": ["accuracy"]})
    else:
        model.compile(_optimiser(keras, spec), "mse")


def _targets(spec: RunSpec, reg, up):
    if spec.task == "direction":
        return up[:, None]
    if spec.task == "multitask":
        return {"ret": reg[:, None], "up": up[:, None]}
    return reg[:, None]


def keras_run(spec: RunSpec, data: Windows, out: Path, tensorboard: bool = False) -> list[dict]:
    """Fit once; CSVLogger writes `out`, or the TensorBoard callback writes train/ and validation/ under it."""
    import keras

    from bench.transfer.tf_summary import SummaryModule

    keras.utils.set_random_seed(spec.seed)
    model = _model(keras, spec, data.x_train.shape[1], data.x_train.shape[2])
    model.trainable = spec.variant != "not_trainable"
    _compile(keras, spec, model)
    table: list[dict] = []

    class Recorder(keras.callbacks.Callback):
        """The epoch table as the logging callbacks see it."""

        def on_epoch_begin(self, epoch, logs=None):
            table.append({"epoch": epoch + 1, "lr": float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))})

        def on_epoch_end(self, epoch, logs=None):
            acc = logs.get("val_accuracy", logs.get("val_up_accuracy"))
            table[-1].update(train_loss=float(logs["loss"]), val_loss=float(logs["val_loss"]), **({"val_acc": float(acc)} if acc is not None else {}))

    callbacks = []
    if spec.schedule == "plateau" and not P.uses_lr_callback(spec):
        params = spec.plan["schedule"]
        callbacks.append(keras.callbacks.ReduceLROnPlateau("val_loss", factor=params["factor"], patience=params["patience"], min_lr=1e-6))
    elif P.uses_lr_callback(spec):
        callbacks.append(keras.callbacks.LearningRateScheduler(lambda epoch, lr: P.lr_at(spec, epoch + 1)))
    callbacks.append(Recorder())
    if tensorboard:
        board = keras.callbacks.TensorBoard(str(out), histogram_freq=0, write_graph=False, update_freq="epoch", profile_batch=0)
        board._summary_module = SummaryModule
        callbacks.append(board)
    else:
        callbacks.append(keras.callbacks.CSVLogger(str(out)))
    model.fit(data.x_train, _targets(spec, data.reg_train, data.up_train), batch_size=spec.batch, epochs=spec.epochs, verbose=0,
              validation_data=(data.x_val, _targets(spec, data.reg_val, data.up_val)), callbacks=callbacks, shuffle=True)
    return table
