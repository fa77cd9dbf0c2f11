"""The tiny profile: generated Python function-writing tasks and a small Qwen2 model trained on them.

families.py (task templates, their alternatives and misconceptions), solutions.py (structures, lint
wrappers, the corpus's defects), tasks.py (function suites, the Task record, the prompt/completion
format), io_tasks.py (stdin/stdout suites), corpus.py (the base model's training distribution),
model.py (TinyRecipe and the cached `ensure_tiny_model`), train.py, tokenizer.py.
Nothing is imported here, so importing the package is free.
"""
