"""Order a coffee: the Picovoice coffee-maker grammar as a plugin (off by default).

An example of a large grammar: these templates expand to millions of sentences,
yet match in about a millisecond (hassil walks the template; the fuzzy matcher
aligns against a graph of a few hundred words). Switch it on with
``intents: {enable: [coffee]}`` in config.yaml or ``--intents coffee``.
Canonical values are as spoken in the grammar ("twelve ounce", "a lot of skim milk").
"""

from assistant.intents import Plugin, Reply

AMOUNTS = ("", "a little bit of ", "a bit of ", "some ", "a lot of ", "lots of ")
MILKS = ("milk", "skim milk", "whole milk", "soy milk", "almond milk", "cream")
SUGARS = ("sugar", "brown sugar", "sweetener")
OUNCES = ("eight", "twelve", "sixteen", "twenty")

plugin = Plugin(
    description="make coffee",
    enabled=False,
    lists={
        "size": {"small": "small", "medium": "medium", "large": "large"} | {f"{n} ounce[s]": f"{n} ounce" for n in OUNCES},
        "roast": ["light roast", "medium roast", "dark roast"],
        "numberOfShots": ["single shot", "double shot", "triple shot"],
        "coffeeDrink": ["americano", "cappuccino", "espresso", "iced mocha", "latte", "mocha", "coffee", "drip coffee", "house coffee", "iced coffee"],
        "milkAmount": [amount + milk for amount in AMOUNTS for milk in MILKS],
        "sugarAmount": [amount + sugar for amount in AMOUNTS for sugar in SUGARS],
    },
    rules={
        "order": "(brew|can i get|can i have|i want|get me|give me|i'd like|make me|may i have)",
        "extras": "with ({milkAmount} [and {sugarAmount}]|{sugarAmount} [and {milkAmount}])",
    },
)


@plugin.intent(
    "orderDrink",
    "[<order>] [a|an] ([{size}];[{roast}];[{numberOfShots}]) {coffeeDrink} [<extras>]",
    description="order a coffee drink",
    examples=("can I get a large dark roast latte with a bit of soy milk", "an espresso please"),
)
def order(req):
    s = req.slots
    drink = " ".join(s[k] for k in ("size", "roast", "numberOfShots", "coffeeDrink") if k in s)
    extras = " and ".join(s[k] for k in ("milkAmount", "sugarAmount") if k in s)
    return Reply(f"One {drink}{' with ' + extras if extras else ''}, coming up.", data={"order": s})
