"""Foreign logs for the diagnosis suite: a tiny independent plain-PyTorch trainer written out in Keras CSVLogger and
Lightning metrics.csv formats, and runs of the real Keras 3 and Lightning CSV loggers."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import torch
from torch import nn


def _data(seed: int, n: int, noise: float, random_target: bool, offset: float, gain: float):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 8, generator=g)
    w = torch.linspace(-1, 1, 8)
    clean = torch.tanh(x @ w) + 0.3 * x[:, 0] * x[:, 1]
    y = torch.randn(n, generator=g) if random_target else clean + noise * torch.randn(n, generator=g)
    return x, (offset + gain * y).unsqueeze(1)


def plain_run(seed=0, n_train=1500, n_val=400, hidden=32, lr=1e-3, optimizer="adam", epochs=30, noise=0.5, val_noise=None,
              random_target=False, offset=0.0, gain=1.0, lr_factor=1.0, batch=32) -> list[tuple[float, list[float], float]]:
    """Train an MLP; per epoch: mean train loss, the step losses, val loss."""
    torch.manual_seed(seed)
    x, y = _data(seed, n_train, noise, random_target, offset, gain)
    xv, yv = _data(seed + 1000, n_val, noise if val_noise is None else val_noise, random_target, offset, gain)
    model = nn.Sequential(nn.Linear(8, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 1))
    opt = (torch.optim.Adam if optimizer == "adam" else torch.optim.SGD)(model.parameters(), lr=lr)
    out = []
    for _ in range(epochs):
        perm = torch.randperm(n_train)
        steps = []
        for i in range(0, n_train, batch):
            idx = perm[i:i + batch]
            loss = nn.functional.mse_loss(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            steps.append(loss.item())
        with torch.no_grad():
            val = nn.functional.mse_loss(model(xv), yv).item()
        out.append((sum(steps) / len(steps), steps, val))
        for group in opt.param_groups:
            group["lr"] *= lr_factor
    return out


def write_keras_format(path: Path, epochs) -> None:
    """What Keras' CSVLogger writes: epoch from 0, loss, val_loss; non-finite values as nan/inf."""
    with open(path, "w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["epoch", "loss", "val_loss"])
        for i, (train, _, val) in enumerate(epochs):
            out.writerow([i, repr(float(train)), repr(float(val))])


def write_lightning_format(path: Path, epochs, every: int = 10) -> None:
    """What Lightning's CSVLogger writes for self.log('train_loss') per step and 'val_loss' per epoch: sparse rows."""
    step = 0
    with open(path, "w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["epoch", "step", "train_loss", "val_loss"])
        for i, (_, steps, val) in enumerate(epochs):
            for loss in steps:
                step += 1
                if step % every == 0:
                    out.writerow([i, step - 1, repr(float(loss)), ""])
            out.writerow([i, step - 1, "", repr(float(val))])


def keras_run(path: Path, seed=0, n_train=1500, n_val=400, hidden=32, lr=1e-3, optimizer="adam", epochs=30, noise=0.5,
              val_noise=None, lr_factor=1.0, gain=1.0, offset=0.0, trainable=True) -> None:
    """A real Keras 3 fit on the torch backend, logged by keras.callbacks.CSVLogger."""
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras

    keras.utils.set_random_seed(seed)
    x, y = _data(seed, n_train, noise, False, offset, gain)
    xv, yv = _data(seed + 1000, n_val, noise if val_noise is None else val_noise, False, offset, gain)
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(hidden, activation="relu"),
                              keras.layers.Dense(hidden, activation="relu"), keras.layers.Dense(1)])
    model.trainable = trainable
    opt = keras.optimizers.Adam(lr) if optimizer == "adam" else keras.optimizers.SGD(lr)
    model.compile(opt, "mse")
    callbacks = [keras.callbacks.CSVLogger(str(path))]
    if lr_factor != 1.0:
        callbacks.append(keras.callbacks.LearningRateScheduler(lambda epoch, current: current * lr_factor if epoch else current))
    model.fit(x.numpy(), y.numpy(), validation_data=(xv.numpy(), yv.numpy()), epochs=epochs, batch_size=32, verbose=0,
              callbacks=callbacks)


def lightning_run(path: Path, seed=0, n_train=1500, n_val=400, hidden=32, lr=1e-3, optimizer="adam", epochs=30, noise=0.5,
                  val_noise=None, on_epoch=False, gain=1.0, offset=0.0) -> None:
    """A real pytorch-lightning fit logged by its CSVLogger; train_loss per step unless on_epoch."""
    import logging
    import shutil
    import tempfile

    import pytorch_lightning as pl
    from pytorch_lightning.loggers import CSVLogger

    logging.getLogger("pytorch_lightning").setLevel(logging.ERROR)
    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
    pl.seed_everything(seed, verbose=False)
    x, y = _data(seed, n_train, noise, False, offset, gain)
    xv, yv = _data(seed + 1000, n_val, noise if val_noise is None else val_noise, False, offset, gain)

    class Module(pl.LightningModule):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Linear(8, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 1))

        def training_step(self, batch, _):
            loss = nn.functional.mse_loss(self.net(batch[0]), batch[1])
            self.log("train_loss", loss, on_step=True, on_epoch=on_epoch)
            return loss

        def validation_step(self, batch, _):
            self.log("val_loss", nn.functional.mse_loss(self.net(batch[0]), batch[1]))

        def configure_optimizers(self):
            return (torch.optim.Adam if optimizer == "adam" else torch.optim.SGD)(self.parameters(), lr=lr)

    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=32, shuffle=True)
    val_loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(xv, yv), batch_size=len(xv))
    with tempfile.TemporaryDirectory() as tmp:
        trainer = pl.Trainer(max_epochs=epochs, logger=CSVLogger(tmp, name="run"), enable_checkpointing=False,
                             enable_progress_bar=False, enable_model_summary=False, log_every_n_steps=10,
                             num_sanity_val_steps=0, accelerator="cpu", devices=1)
        trainer.fit(Module(), loader, val_loader)
        shutil.copy(Path(tmp) / "run" / "version_0" / "metrics.csv", path)
