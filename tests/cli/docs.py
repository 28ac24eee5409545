"""Sample markdown answers shared by the CLI tests and the benchmark shape."""

from __future__ import annotations

import random

TRICKY = """# Streaming answer

Intro paragraph with **bold text** and `inline code` and a [link](http://example.com).
Still the same paragraph.

```python title="demo"
def f(x):

    return x * 2  # the blank line above is inside the fence
```

1. first
2. second

   continued item

3. third
- bullet

Paragraph after list.

| col a | col b |
|-------|-------|
| 1     | two   |
| 3     | four  |

---
> a quote
> more quote

~~~
tilde fence

~~~
Para right after a fence.
Intro without blank:
```js
let x = 1;

```
Final **words**."""

NESTED = """Steps:

- install it:

  ```bash
  pip install herald

  herald --help
  ```

- run it
  lazily continued

Done with the list.

    indented code

    more indented code
Trailing paragraph.
"""

HEADINGS = """## One
### Two
Text under two.
* * *
#### Three

1) a
2) b

10. ten
"""

ALL_DOCS = [TRICKY, NESTED, HEADINGS]


def chunks(text: str, size: int) -> list[str]:
    """``text`` in fixed-size deltas."""
    return [text[i : i + size] for i in range(0, len(text), size)]


def random_chunks(text: str, seed: int, max_size: int = 9) -> list[str]:
    """``text`` in deltas of random sizes (reproducible)."""
    rng = random.Random(seed)
    out, i = [], 0
    while i < len(text):
        n = rng.randint(1, max_size)
        out.append(text[i : i + n])
        i += n
    return out
