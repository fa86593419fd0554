"""An independent GPT-2-style decoder in PyTorch, written from the math, as a peer for structlm.

Used by gpt_parity.py (correctness: same weights must give the same logits and gradients as the
C++ model) and train_bench.py (speed). Parameter names match structlm's C++ model: wte, wpe,
h.N.ln_1, h.N.attn.c_attn, h.N.attn.c_proj, h.N.ln_2, h.N.mlp.c_fc, h.N.mlp.c_proj, ln_f and,
when untied, lm_head. Linear weights are [out, in] as in torch.

The model, per block (pre-LayerNorm, as GPT-2):
    x = x + proj(softmax(mask(Q K^T / sqrt(d))) V)   with Q, K, V from LN1(x)
    x = x + W2 gelu_tanh(W1 LN2(x) + b1) + b2
and logits = LN_f(x) W_out^T, where W_out is wte's table when tied.

With config.cstde = {"attention": true, ...} (docs/METHODS.md §1b), written here from the
equations, independently of the C++ code: every block also has a dependency scorer
    s_ij = (x_i U)(x_j V)^T / sqrt(r) + b[bucket(i - j)]  (j <= i),   D_new = softmax_j(s)
    D^l = D^{l-1} + sigmoid(g_l) (D_new - D^{l-1})     (layers after the first, if carry)
and head h adds beta_h * log(D^l + eps) to its attention logits.
"""
import math
from dataclasses import dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class Config:
    vocab_size: int = 4096
    block_size: int = 256
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 256
    dropout: float = 0.0
    bias: bool = True
    tied: bool = True
    cstde: dict = field(default_factory=dict)

    def dep(self, key, default):
        return self.cstde.get(key, default)


class LayerNorm(nn.Module):
    """LayerNorm whose bias is optional (no parameter at all when bias=False)."""

    def __init__(self, n, bias):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(n))
        self.bias = nn.Parameter(torch.zeros(n)) if bias else None

    def forward(self, x):
        return F.layer_norm(x, self.weight.shape, self.weight, self.bias, 1e-5)


def t5_bucket(n, buckets, max_distance):
    """T5's unidirectional relative-position bucket for a distance n >= 0."""
    exact = buckets // 2
    if n < exact:
        return n
    large = exact + int(math.log(n / exact) / math.log(max_distance / exact) * (buckets - exact))
    return min(large, buckets - 1)


class DependencyScorer(nn.Module):
    def __init__(self, c, carries):
        super().__init__()
        r = c.dep("rank", 32)
        self.r = r
        self.u = nn.Linear(c.n_embd, r, bias=False)
        self.v = nn.Linear(c.n_embd, r, bias=False)
        buckets, maxd = c.dep("buckets", 32), c.dep("max_distance", 128)
        self.rel_bias = nn.Parameter(torch.zeros(buckets))
        self.carry_logit = nn.Parameter(torch.zeros(1)) if carries else None
        T = c.block_size
        idx = torch.tensor([[t5_bucket(i - j, buckets, maxd) if j <= i else 0 for j in range(T)] for i in range(T)])
        self.register_buffer("bucket", idx, persistent=False)

    def forward(self, x, prev):
        T = x.shape[1]
        s = (self.u(x) @ self.v(x).transpose(1, 2)) / math.sqrt(self.r) + self.rel_bias[self.bucket[:T, :T]]
        future = torch.ones(T, T, dtype=torch.bool, device=x.device).triu(1)
        d_new = torch.softmax(s.masked_fill(future, float("-inf")), dim=-1)
        if prev is None or self.carry_logit is None:
            return d_new
        g = torch.sigmoid(self.carry_logit)
        return (1 - g) * prev + g * d_new


class CausalSelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        assert c.n_embd % c.n_head == 0
        self.n_head, self.n_embd = c.n_head, c.n_embd
        self.c_attn = nn.Linear(c.n_embd, 3 * c.n_embd, bias=c.bias)
        self.c_proj = nn.Linear(c.n_embd, c.n_embd, bias=c.bias)
        self.attn_dropout = nn.Dropout(c.dropout)
        self.resid_dropout = nn.Dropout(c.dropout)
        self.dep_beta = nn.Parameter(torch.zeros(c.n_head)) if c.dep("attention", False) else None
        # Lower-triangular "may attend" matrix, built once (not a parameter, not saved).
        allowed = torch.tril(torch.ones(c.block_size, c.block_size, dtype=torch.bool))
        self.register_buffer("allowed", allowed, persistent=False)

    def forward(self, x, dep_log=None):
        B, T, C = x.shape
        d = C // self.n_head
        q, k, v = self.c_attn(x).split(C, dim=2)
        # [B, T, C] -> [B, heads, T, d]
        q = q.view(B, T, self.n_head, d).transpose(1, 2)
        k = k.view(B, T, self.n_head, d).transpose(1, 2)
        v = v.view(B, T, self.n_head, d).transpose(1, 2)
        scores = (q @ k.transpose(-2, -1)) / math.sqrt(d)
        if dep_log is not None:
            for h in range(self.n_head):  # one head at a time: the plainest reading of the equation
                scores[:, h] = scores[:, h] + self.dep_beta[h] * dep_log
        scores = scores.masked_fill(~self.allowed[:T, :T], float("-inf"))
        weights = self.attn_dropout(torch.softmax(scores, dim=-1))
        y = (weights @ v).transpose(1, 2).contiguous().view(B, T, C)
        return self.resid_dropout(self.c_proj(y))


class MLP(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c_fc = nn.Linear(c.n_embd, 4 * c.n_embd, bias=c.bias)
        self.c_proj = nn.Linear(4 * c.n_embd, c.n_embd, bias=c.bias)
        self.dropout = nn.Dropout(c.dropout)

    def forward(self, x):
        return self.dropout(self.c_proj(F.gelu(self.c_fc(x), approximate="tanh")))


class Block(nn.Module):
    def __init__(self, c, layer):
        super().__init__()
        self.ln_1 = LayerNorm(c.n_embd, c.bias)
        self.attn = CausalSelfAttention(c)
        self.ln_2 = LayerNorm(c.n_embd, c.bias)
        self.mlp = MLP(c)
        self.eps = c.dep("epsilon", 1e-6)
        self.dep = DependencyScorer(c, c.dep("carry", True) and layer > 0) if c.dep("attention", False) else None

    def forward(self, x, prev_d=None):
        xn = self.ln_1(x)
        d = None
        if self.dep is not None:
            d = self.dep(xn, prev_d)
        x = x + self.attn(xn, None if d is None else torch.log(d + self.eps))
        return x + self.mlp(self.ln_2(x)), d


class GPT(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.config = c
        self.wte = nn.Embedding(c.vocab_size, c.n_embd)
        self.wpe = nn.Embedding(c.block_size, c.n_embd)
        self.drop = nn.Dropout(c.dropout)
        self.h = nn.ModuleList([Block(c, i) for i in range(c.n_layer)])
        self.ln_f = LayerNorm(c.n_embd, c.bias)
        self.lm_head = None if c.tied else nn.Linear(c.n_embd, c.vocab_size, bias=False)
        self._init_weights()

    def _init_weights(self):
        # GPT-2: N(0, 0.02) for matrices, residual projections scaled by 1/sqrt(2 * n_layer).
        with torch.no_grad():
            for name, p in self.named_parameters():
                if p.dim() >= 2:
                    std = 0.02 / math.sqrt(2 * self.config.n_layer) if name.endswith("c_proj.weight") else 0.02
                    p.normal_(0.0, std)
                elif name.endswith("bias") or name.endswith("dep_beta") or name.endswith("carry_logit"):
                    p.zero_()  # biases; CSTDE's gates start at 0 (beta) and 1/2 (gamma)
                else:
                    p.fill_(1.0)

    def output_weight(self):
        return self.wte.weight if self.lm_head is None else self.lm_head.weight

    def forward(self, idx, targets=None):
        B, T = idx.shape
        assert T <= self.config.block_size
        pos = torch.arange(T, device=idx.device)
        x = self.drop(self.wte(idx) + self.wpe(pos))
        d = None
        for block in self.h:
            x, d = block(x, d)
        logits = F.linear(self.ln_f(x), self.output_weight())
        if targets is None:
            return logits, None
        loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.reshape(-1))
        return logits, loss

    def optimizer_groups(self, weight_decay):
        """AdamW groups: matrices (Linear weights, embeddings) decay; biases and LayerNorm do not."""
        decay = [p for p in self.parameters() if p.requires_grad and p.dim() >= 2]
        no_decay = [p for p in self.parameters() if p.requires_grad and p.dim() < 2]
        return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
