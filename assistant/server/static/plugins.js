// What the assistant understands: GET /v1/intents (the listing `assistant intents` prints), one
// group per plugin with its intents, their slots and example sentences. An example is a button
// that runs it as a typed command.

import { element } from "./turns.js";

export async function loadPlugins(container, token, onExample) {
  const headers = token ? { Authorization: `Bearer ${token}` } : {};
  let listing;
  try {
    const response = await fetch("/v1/intents", { headers });
    listing = await response.json();
    if (!response.ok) throw new Error(listing.error?.message || `HTTP ${response.status}`);
  } catch (err) {
    container.replaceChildren(element("p", { className: "quiet" }, `The list of intents is not available: ${err.message}`));
    return;
  }
  const groups = listing.plugins.map((plugin) =>
    element(
      "details",
      { className: "plugin", dataset: { plugin: plugin.name } },
      element(
        "summary",
        {},
        element("strong", {}, plugin.name),
        plugin.description ? element("span", { className: "quiet" }, ` — ${plugin.description}`) : null,
        element("span", { className: "count" }, ` · ${plugin.intents.length} intent${plugin.intents.length === 1 ? "" : "s"}`),
      ),
      element(
        "ul",
        { className: "intents" },
        ...plugin.intents.map((intent) =>
          element(
            "li",
            { dataset: { intent: intent.name } },
            element("code", {}, intent.name),
            intent.slots.length ? element("span", { className: "quiet" }, ` (${intent.slots.join(", ")})`) : null,
            element(
              "span",
              { className: "examples" },
              ...intent.examples.map((example) => {
                const button = element("button", { type: "button", className: "example", title: "say this (typed)" }, example);
                button.addEventListener("click", () => onExample(example));
                return button;
              }),
            ),
          ),
        ),
      ),
    ),
  );
  const off = listing.off.length ? element("p", { className: "quiet" }, `Off: ${listing.off.join(", ")} (switch on with --intents NAME or intents.enable)`) : null;
  container.replaceChildren(...groups, off ?? "");
}
