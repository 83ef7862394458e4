"""Trains a low-bit Fashion-MNIST ResNet (w1a2 or bwn) with the W1A1 recipe and saves bnn_<model>.pt.

Usage: /usr/bin/python3 models/fashion_mnist_lowbit/train.py --model w1a2|bwn [--epochs N] [--threads 2]

Recipe as models/fashion_mnist/train.py: Adam lr 2e-3, cosine decay to 0 over all steps, batch 128,
no augmentation, seed 0 (torch.manual_seed; deterministic algorithms on)."""
import argparse
import math
import os
import random
import time

import numpy as np
import torch
import torch.nn.functional as F

from lowbit import MODELS, build, evaluate, load_split

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True, choices=sorted(MODELS))
    ap.add_argument("--epochs", type=int, default=7)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--max-steps", type=int, default=0, help="stop after this many steps (timing runs only)")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    out = args.out or os.path.join(HERE, f"bnn_{args.model}.pt")

    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    xtr, ytr = load_split("train")
    xte, yte = load_split("t10k")
    model = build(args.model)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    steps_per_epoch = math.ceil(len(xtr) / args.batch)
    total = args.epochs * steps_per_epoch
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * min(s, total) / total)))

    start = time.time()
    accs = []
    for epoch in range(args.epochs):
        model.train()
        perm = torch.randperm(len(xtr))
        running = 0.0
        for step in range(steps_per_epoch):
            idx = perm[step * args.batch:(step + 1) * args.batch]
            loss = F.cross_entropy(model(xtr[idx]), ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            running += loss.item()
            if step % 100 == 99:
                print(f"epoch {epoch} step {step + 1}/{steps_per_epoch} loss {running / 100:.4f} "
                      f"{time.time() - start:.0f}s", flush=True)
                running = 0.0
            if args.max_steps and epoch * steps_per_epoch + step + 1 >= args.max_steps:
                el = time.time() - start
                print(f"timing: {args.max_steps} steps in {el:.1f}s -> {el / args.max_steps * steps_per_epoch:.0f}s "
                      f"per epoch of {steps_per_epoch} steps", flush=True)
                return
        acc = evaluate(model, xte, yte)
        accs.append(acc)
        print(f"epoch {epoch} done: test accuracy {acc:.4f}, elapsed {time.time() - start:.0f}s", flush=True)
    torch.save({"state_dict": model.state_dict(), "model": args.model, "epochs": args.epochs, "seed": args.seed,
                "epoch_test_acc": accs, "train_seconds": time.time() - start}, out)
    print(f"saved {out}; training wall time {time.time() - start:.0f}s")


if __name__ == "__main__":
    main()
