"""Two torch writers: a real Lightning fit logged by its CSVLogger (LearningRateMonitor, sparse validation), and a
plain torch loop logged by torch.utils.tensorboard.SummaryWriter. Both return the epoch table they were given."""

from __future__ import annotations

import logging
import shutil
import tempfile
import warnings
from pathlib import Path

import torch

from bench.transfer import plan as P
from bench.transfer.data import Windows
from bench.transfer.spec import RunSpec
from bench.transfer.torch_models import SuiteNet, accuracy, optimiser, task_loss


def _tensors(data: Windows, split: str):
    x, reg, up = (data.x_train, data.reg_train, data.up_train) if split == "train" else (data.x_val, data.reg_val, data.up_val)
    return torch.tensor(x), torch.tensor(reg), torch.tensor(up)


def _loader(spec: RunSpec, data: Windows) -> torch.utils.data.DataLoader:
    generator = torch.Generator().manual_seed(spec.seed)
    return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(*_tensors(data, "train")), batch_size=spec.batch,
                                       shuffle=True, generator=generator)


def _corrupt(spec: RunSpec, epoch: int, batch: int, reg: torch.Tensor) -> torch.Tensor:
    factor = P.bad_batch(spec, epoch, batch)
    return reg if factor is None else reg * factor + factor


def _evaluate(spec: RunSpec, net: SuiteNet, val) -> tuple[float, float | None]:
    net.eval()
    with torch.no_grad():
        out = net(val[0])
        loss = task_loss(spec.task, out, val[1], val[2]).item()
        acc = accuracy(out, val[2]) if spec.task in ("direction", "multitask") else None
    net.train()
    return loss, acc


def lightning_run(spec: RunSpec, data: Windows, path: Path) -> list[dict]:
    """A real Lightning fit; its CSVLogger's metrics.csv is copied to `path`."""
    import lightning.pytorch as pl
    from lightning.pytorch.callbacks import LearningRateMonitor
    from lightning.pytorch.loggers import CSVLogger

    for name in ("lightning", "lightning.pytorch", "lightning_fabric"):
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    pl.seed_everything(spec.seed, verbose=False)
    table: dict[int, dict] = {}
    val = _tensors(data, "val")
    on_epoch = spec.plan.get("on_epoch", False)

    class Module(pl.LightningModule):
        """The drawn network, logging train_loss per step (and per epoch when drawn), val_loss and val_acc."""

        def __init__(self):
            super().__init__()
            self.net = SuiteNet(spec, data.x_train.shape[1], data.x_train.shape[2])
            self.losses: list[float] = []

        def on_train_epoch_start(self):
            self.losses = []
            table.setdefault(self.current_epoch + 1, {})["lr"] = self.optimizers().param_groups[0]["lr"]

        def training_step(self, batch, index):
            x, reg, up = batch
            loss = task_loss(spec.task, self.net(x), _corrupt(spec, self.current_epoch + 1, index, reg), up)
            self.log("train_loss", loss, on_step=True, on_epoch=on_epoch)
            self.losses.append(loss.item())
            return loss

        def on_train_epoch_end(self):
            table[self.current_epoch + 1]["train_loss"] = sum(self.losses) / len(self.losses)

        def validation_step(self, batch, index):
            out = self.net(batch[0])
            loss = task_loss(spec.task, out, batch[1], batch[2])
            self.log("val_loss", loss)
            table.setdefault(self.current_epoch + 1, {})["val_loss"] = loss.item()
            if spec.task in ("direction", "multitask"):
                self.log("val_acc", accuracy(out, batch[2]))
                table[self.current_epoch + 1]["val_acc"] = accuracy(out, batch[2])

        def configure_optimizers(self):
            opt = optimiser(spec, self.parameters())
            if spec.schedule == "plateau" and not P.uses_lr_callback(spec):
                params = spec.plan["schedule"]
                scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=params["factor"], patience=params["patience"])
                return {"optimizer": opt, "lr_scheduler": {"scheduler": scheduler, "monitor": "val_loss", "interval": "epoch"}}
            if P.uses_lr_callback(spec):
                scheduler = torch.optim.lr_scheduler.LambdaLR(opt, lambda done: P.lr_at(spec, done + 1) / spec.lr)
                return {"optimizer": opt, "lr_scheduler": {"scheduler": scheduler, "interval": "epoch"}}
            return opt

    callbacks = [LearningRateMonitor(logging_interval=spec.plan["lr_monitor"])] if spec.plan.get("lr_monitor") else []
    val_loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(*val), batch_size=len(val[0]))
    with tempfile.TemporaryDirectory() as tmp:
        trainer = pl.Trainer(max_epochs=spec.epochs, logger=CSVLogger(tmp, name="run"), callbacks=callbacks,
                             check_val_every_n_epoch=spec.plan.get("val_every", 1), log_every_n_steps=max(1, spec.seed % 40),
                             enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                             num_sanity_val_steps=0, accelerator="cpu", devices=1, gradient_clip_val=spec.grad_clip or None)
        trainer.fit(Module(), _loader(spec, data), val_loader)
        shutil.copy(Path(tmp) / "run" / "version_0" / "metrics.csv", path)
    return [{"epoch": e, **table[e]} for e in sorted(table)]


def tensorboard_torch_run(spec: RunSpec, data: Windows, folder: Path) -> list[dict]:
    """A plain torch loop logged by torch.utils.tensorboard.SummaryWriter into `folder` (one event file)."""
    from torch.utils.tensorboard import SummaryWriter

    torch.manual_seed(spec.seed)
    net = SuiteNet(spec, data.x_train.shape[1], data.x_train.shape[2])
    opt = optimiser(spec, net.parameters())
    plateau = None
    if spec.schedule == "plateau" and not P.uses_lr_callback(spec):
        params = spec.plan["schedule"]
        plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=params["factor"], patience=params["patience"])
    train_tag, val_tag, lr_tag = spec.plan["tags"]
    by_step = spec.plan.get("step_axis") == "global_step"
    val, loader, table, step = _tensors(data, "val"), _loader(spec, data), [], 0
    writer = SummaryWriter(log_dir=str(folder), filename_suffix=".suite")
    for epoch in range(1, spec.epochs + 1):
        if plateau is None:
            for group in opt.param_groups:
                group["lr"] = P.lr_at(spec, epoch)
        lr, losses = opt.param_groups[0]["lr"], []
        for index, (x, reg, up) in enumerate(loader):
            loss = task_loss(spec.task, net(x), _corrupt(spec, epoch, index, reg), up)
            opt.zero_grad()
            loss.backward()
            if spec.grad_clip:
                torch.nn.utils.clip_grad_norm_(net.parameters(), spec.grad_clip)
            opt.step()
            step += 1
            losses.append(loss.item())
            if spec.plan.get("step_scalars") and step % 10 == 0:
                writer.add_scalar(f"{train_tag}_step", losses[-1], step)
        val_loss, acc = _evaluate(spec, net, val)
        row = {"epoch": epoch, "lr": lr, "train_loss": sum(losses) / len(losses), "val_loss": val_loss}
        at = step if by_step else epoch - 1
        writer.add_scalar(train_tag, row["train_loss"], at)
        writer.add_scalar(val_tag, val_loss, at)
        writer.add_scalar(lr_tag, lr, at)
        if acc is not None:
            row["val_acc"] = acc
            writer.add_scalar(val_tag.replace("loss", "acc"), acc, at)
        table.append(row)
        if plateau is not None:
            plateau.step(val_loss)
    writer.close()
    return table
