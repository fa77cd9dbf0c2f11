"""Adaptive K rollouts for GRPO: when a group of K has no reward variance, draw more and train on K that do.

TRL's group size is fixed (advantages are `rewards.view(-1, K)`), so the adaptive option cannot grow a
group; instead `AdaptiveK` is a TRL `rollout_func`. It samples K completions per prompt exactly as TRL
would (the trainer's own tokenization, generation config and EOS masking), scores them with the exec
combined reward (the same functions and weights the trainer sums, `rewards.combined`), and for each
group whose K rewards are all equal draws `max_generations - K` more and returns K
of the (up to `max_generations`) completions chosen to keep reward variance (`select_group`). A group
of zero variance has zero advantage and teaches nothing; the swap turns some of those into signal.

It is biased: the returned group is no longer an i.i.d. sample of the policy (an all-fail group that
found one pass is trained as if the policy passed 1 in K), so the gradient is not the GRPO gradient
of the policy's expected reward. Fixed K (`adaptive_k: false`) stays the default and the baseline.

Metrics and logs:
- `rollout/k_mean` (our `train/k_mean`): mean completions drawn per prompt, in [K, max_generations].
- `rollout/rescued_frac`: of the zero-variance groups, the fraction that the extra draws gave variance.
- The pre-scoring here does not write to the rollout log; the trainer scores the returned K again
  through the reward functions as usual, and only that call logs. So with adaptive K, `train/pass_rate` is the
  pass rate of the completions trained on (K per prompt after selection), not of the policy's draws:
  it is biased the same way as the gradient (up for rescued all-fail groups, down for rescued
  all-pass ones). Programs are therefore executed twice (once here, once by the trainer); a timeout
  flake between the two can change a reward, in which case the trained group may lose its variance.

Limits: prompts map to their problem by text (two problems with the same prompt score against the
first); `k_mean` is per process (this project trains on one); the vLLM path is untested here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from trainables.common.rewards import Reward, RewardFunction, combined


def has_variance(rewards: Sequence[Reward]) -> bool:
    """Whether the judged rewards of a group differ (what gives a nonzero GRPO advantage)."""
    return len({r for r in rewards if r is not None}) > 1


def extra_draws(group: Sequence[Reward], max_generations: int) -> int:
    """How many more completions to draw for a group of K: none if it has variance, else up to the cap."""
    return 0 if has_variance(group) else max(0, max_generations - len(group))


def select_group(rewards: Sequence[Reward], k: int, rng: np.random.Generator) -> list[int]:
    """Indices (sorted) of k of the drawn completions; the first k are the original group.

    A group with variance, or a draw with no second reward level, keeps the original k. Otherwise one
    completion of each reward level (k of the levels at random if there are more) plus a random fill,
    judged completions before unjudged ones, so the returned group has variance.
    """
    if len(rewards) < k:
        raise ValueError(f"need at least k={k} rewards, got {len(rewards)}")
    original = list(range(k))
    levels = sorted({r for r in rewards if r is not None})
    if has_variance(rewards[:k]) or len(levels) < 2:
        return original
    if len(levels) > k:
        levels = sorted(rng.choice(levels, size=k, replace=False).tolist())
    chosen = [int(rng.choice([i for i, r in enumerate(rewards) if r == level])) for level in levels]
    rest = [i for i in range(len(rewards)) if i not in chosen]
    judged = [i for i in rest if rewards[i] is not None]
    unjudged = [i for i in rest if rewards[i] is None]
    fill = [int(i) for i in rng.permutation(judged)] + [int(i) for i in rng.permutation(unjudged)]
    return sorted(chosen + fill[: k - len(chosen)])


class AdaptiveK:
    """TRL `rollout_func(prompts, trainer) -> {prompt_ids, completion_ids, logprobs}` with adaptive K.

    `prompts` arrive repeated K times, group by group (TRL's RepeatSampler); `dataset_prompts[i]` is
    the prompt of `problems[i]` (the dataset's `problem_index` column), used to score groups with the
    trainer's reward functions `funcs` and `weights`.
    Sampling goes through the trainer's own `_tokenize_prompts` / `_generate_single_turn` (TRL 1.16,
    private), so every draw uses exactly the generation settings and EOS handling of fixed K.
    """

    def __init__(
        self,
        funcs: Sequence[RewardFunction],
        weights: Sequence[float],
        dataset_prompts: Sequence[str],
        max_generations: int,
        seed: int,
    ) -> None:
        self.funcs = list(funcs)
        self.weights = list(weights)
        self.max_generations = max_generations
        self.seed = seed
        self.index: dict[str, int] = {}
        for i, prompt in enumerate(dataset_prompts):
            self.index.setdefault(prompt, i)

    def __call__(self, prompts: list[Any], trainer: Any) -> dict[str, Any]:
        """K completions per prompt, refilled where a group has no reward variance; logs rollout/k_mean."""
        if not trainer.model.training:  # TRL eval (unused here): plain sampling
            prompt_ids, _, _ = trainer._tokenize_prompts(prompts)
            completion_ids, logprobs = trainer._generate_single_turn(prompt_ids, None, {}, trainer.num_generations_eval)
            return {"prompt_ids": prompt_ids, "completion_ids": completion_ids, "logprobs": logprobs}
        k = trainer.num_generations
        if len(prompts) % k or any(prompts[s] != prompts[s + j] for s in range(0, len(prompts), k) for j in range(k)):
            raise ValueError(f"adaptive K expects prompts repeated in groups of num_generations={k}")
        prompt_ids, _, _ = trainer._tokenize_prompts(prompts)
        completion_ids, logprobs = trainer._generate_single_turn(prompt_ids, None, {}, k)
        completion_ids = list(completion_ids)
        logprobs = None if logprobs is None else list(logprobs)
        rewards = self._score(prompts, completion_ids, trainer)
        groups = [list(range(s, s + k)) for s in range(0, len(prompts), k)]
        n_more = self.max_generations - k
        lacking = [g for g in groups if extra_draws([rewards[i] for i in g], self.max_generations) > 0]
        if lacking:
            rescued = self._refill(lacking, n_more, prompts, prompt_ids, completion_ids, logprobs, rewards, trainer)
            trainer._metrics["train"]["rollout/rescued_frac"].append(rescued / len(lacking))
        trainer._metrics["train"]["rollout/k_mean"].append(k + n_more * len(lacking) / len(groups))
        return {"prompt_ids": prompt_ids, "completion_ids": completion_ids, "logprobs": logprobs}

    def _refill(
        self,
        lacking: list[list[int]],
        n_more: int,
        prompts: list[Any],
        prompt_ids: list[list[int]],
        completion_ids: list[list[int]],
        logprobs: list[Any] | None,
        rewards: list[Reward],
        trainer: Any,
    ) -> int:
        """Draw n_more for each lacking group (one batch) and swap in the selection, in place; returns
        how many of the groups now have variance."""
        more_prompts = [prompts[g[0]] for g in lacking for _ in range(n_more)]
        more_ids = [prompt_ids[g[0]] for g in lacking for _ in range(n_more)]
        more_completions, more_logprobs = trainer._generate_single_turn(more_ids, None, {}, n_more)
        more_rewards = self._score(more_prompts, more_completions, trainer)
        rng = np.random.default_rng([self.seed, int(trainer.state.global_step)])
        rescued = 0
        for n, g in enumerate(lacking):
            more = slice(n * n_more, (n + 1) * n_more)
            pool_rewards = [rewards[i] for i in g] + more_rewards[more]
            picked = select_group(pool_rewards, k=len(g), rng=rng)
            rescued += has_variance([pool_rewards[j] for j in picked])
            pool = [completion_ids[i] for i in g] + list(more_completions[more])
            pool_logprobs = None
            if logprobs is not None and more_logprobs is not None:
                pool_logprobs = [logprobs[i] for i in g] + list(more_logprobs[more])
            for slot, j in zip(g, picked, strict=True):
                completion_ids[slot] = pool[j]
                if logprobs is not None and pool_logprobs is not None:
                    logprobs[slot] = pool_logprobs[j]
        return rescued

    def _score(self, prompts: list[Any], completion_ids: list[list[int]], trainer: Any) -> list[Reward]:
        """The combined reward of each completion, as the trainer computes it, without logging rollouts."""
        texts = trainer.processing_class.batch_decode(completion_ids, skip_special_tokens=True)
        index = [self.index[p] for p in prompts]
        return combined(self.funcs, self.weights, prompts, texts, problem_index=index)
