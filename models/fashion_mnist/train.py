"""Trains the Bi-Real-style binary ResNet on Fashion-MNIST and saves bnn_resnet.pt (latent float weights).

Usage: /usr/bin/python3 models/fashion_mnist/train.py [--epochs 7] [--out models/fashion_mnist/bnn_resnet.pt]
"""
import argparse
import math
import os
import time

import torch
import torch.nn.functional as F

from bnn import BinaryResNet, evaluate, load_split

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=7)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=os.path.join(HERE, "bnn_resnet.pt"))
    args = ap.parse_args()

    torch.set_num_threads(2)
    torch.manual_seed(args.seed)
    xtr, ytr = load_split("train")
    xte, yte = load_split("t10k")
    model = BinaryResNet()
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    steps_per_epoch = math.ceil(len(xtr) / args.batch)
    total = args.epochs * steps_per_epoch
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * min(s, total) / total)))

    start = time.time()
    for epoch in range(args.epochs):
        model.train()
        perm = torch.randperm(len(xtr))
        running = 0.0
        for step in range(steps_per_epoch):
            idx = perm[step * args.batch:(step + 1) * args.batch]
            xb, yb = xtr[idx], ytr[idx]
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            running += loss.item()
            if step % 100 == 99:
                print(f"epoch {epoch} step {step + 1}/{steps_per_epoch} loss {running / 100:.4f} "
                      f"{time.time() - start:.0f}s", flush=True)
                running = 0.0
        acc = evaluate(model, xte, yte)
        print(f"epoch {epoch} done: test accuracy {acc:.4f}, elapsed {time.time() - start:.0f}s", flush=True)
    torch.save({"state_dict": model.state_dict(), "epochs": args.epochs, "seed": args.seed,
                "train_seconds": time.time() - start}, args.out)
    print(f"saved {args.out}; training wall time {time.time() - start:.0f}s")


if __name__ == "__main__":
    main()
