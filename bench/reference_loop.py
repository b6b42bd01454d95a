"""An independent 30-line PyTorch loop, kept apart from the engine on purpose (it imports nothing of it): the same
model shape, batch and window as the project's defaults, on the bundled prices. Prints the median training
samples/s of epochs 2..N (validation excluded, as the engine does). bench_engine_vs_bare.py runs it as the
reference, with glibc's allocator tuned from the environment. The statements are the original's, one per line, but
for the batch size, an optional argument so that bench_cuda.py can also run it at 1024 (on CUDA under
`with torch.device(...)`, which places every tensor it makes).
Usage: python3 bench/reference_loop.py engine/data/stocks.csv.gz EPOCHS [BATCH]
"""
import sys
import time

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

path, epochs = sys.argv[1], int(sys.argv[2])
batch = int(sys.argv[3]) if len(sys.argv) > 3 else 256
torch.manual_seed(0)
raw = pd.read_csv(path)
feats, tgts = [], []
for t in ["AAPL", "IBM", "MSFT", "GOOG"]:
    d = raw[raw.Ticker == t].sort_values("Date")
    r = np.log(d["Adj Close"]).diff()
    f = np.stack([r, np.log(d.High / d.Low), np.log(d.Close / d.Open), np.log(d.Open).diff(),
                  np.log1p(d.Volume).diff(), r.rolling(20).std()], 1)[21:-1]
    y = r.shift(-1).values[21:-1]
    n = int(len(f) * 0.7)
    feats.append(f[:n])
    tgts.append(y[:n])
X = torch.tensor(np.concatenate(feats), dtype=torch.float32)
X = (X - X.mean(0)) / X.std(0)
Y = torch.tensor(np.concatenate(tgts), dtype=torch.float32)
Y = (Y - Y.mean()) / Y.std()
W = 30
ends = torch.arange(W - 1, len(X))


class M(nn.Module):
    def __init__(s):
        super().__init__()
        s.lstm = nn.LSTM(6, 128, 2, batch_first=True, dropout=0.3)
        s.d = nn.Dropout(0.3)
        s.r = nn.Linear(128, 1)
        s.c = nn.Linear(128, 1)

    def forward(s, x):
        h = s.d(s.lstm(x)[0][:, -1])
        return s.r(h).squeeze(-1), s.c(h).squeeze(-1)


m = M()
opt = torch.optim.Adam(m.parameters(), lr=1e-3, weight_decay=1e-4)
offs = torch.arange(-W + 1, 1)
rates = []
for e in range(epochs):
    t0 = time.perf_counter()
    perm = torch.randperm(len(ends))
    seen = 0
    for i in range(0, len(perm), batch):
        idx = ends[perm[i:i + batch]]
        x = X[idx[:, None] + offs]
        y = Y[idx]
        p, logit = m(x)
        loss = F.mse_loss(p, y) + 0.5 * F.binary_cross_entropy_with_logits(logit, (y > 0).float())
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(m.parameters(), 1.0)
        opt.step()
        seen += len(idx)
    rates.append(seen / (time.perf_counter() - t0))
print(f"samples/s {float(np.median(rates[1:])):.1f} windows {len(ends)}")
