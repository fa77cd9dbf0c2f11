"""The tiny profile: generated Python function-writing tasks and a small Qwen2 model trained on them.

tasks.py (suites, the Task record, the prompt/completion format), model.py (TinyRecipe and the
cached `ensure_tiny_model`).
Nothing is imported here, so importing the package is free.
"""
