import { detectRaw } from "../lib/browser.js";
import { send } from "../lib/messages.js";
import { OPTIONS, isLoopback, parseServiceUrl, servicePermission, withDefaults } from "../lib/options.js";

const raw = detectRaw();
const $ = (id) => document.getElementById(id);

function field(option, value) {
  const wrapper = document.createElement("div");
  wrapper.className = "breather-field";
  const label = document.createElement("label");
  const input = document.createElement("input");
  input.id = `option-${option.key}`;
  input.name = option.key;
  if (option.kind === "boolean") {
    input.type = "checkbox";
    input.checked = value;
    label.append(input, " ", option.label);
  } else {
    input.type = "text";
    input.value = String(value);
    label.append(option.label, " ", input);
  }
  const help = document.createElement("small");
  help.id = `option-${option.key}-help`;
  help.textContent = option.help;
  input.setAttribute("aria-describedby", help.id); // read with the field, not only when someone finds it
  wrapper.append(label, help);
  return wrapper;
}

function formValues() {
  return Object.fromEntries(
    OPTIONS.map((option) => {
      const input = $(`option-${option.key}`);
      return [option.key, option.kind === "boolean" ? input.checked : input.value];
    }),
  );
}

async function render() {
  const { options = {}, token, profile, needsPairing } = await raw.storage.local.get(["options", "token", "profile", "needsPairing"]);
  const values = withDefaults(options);
  $("fields").replaceChildren(...OPTIONS.map((option) => field(option, values[option.key])));
  if (token) {
    $("pairing").textContent = `Paired with ${values.serviceUrl} as “${profile}”.`;
  } else {
    $("pairing").textContent = needsPairing
      ? "Breather no longer recognises this browser: pair it again."
      : "Not paired yet.";
  }
}

$("options-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("problem").textContent = "";
  $("saved").textContent = "";
  const values = formValues();
  let serviceUrl;
  try {
    serviceUrl = parseServiceUrl(values.serviceUrl);
  } catch (error) {
    $("problem").textContent = `Breather service address: ${error.message}`;
    return;
  }
  if (!isLoopback(serviceUrl)) {
    // Another machine needs a host permission, which browsers only grant from a click like this one.
    const granted = await raw.permissions.request({ origins: [servicePermission(serviceUrl)] });
    if (!granted) {
      $("problem").textContent = `The browser did not allow the extension to talk to ${serviceUrl}.`;
      return;
    }
  }
  const answer = await send(raw, "save-options", { values });
  if (!answer.ok) {
    $("problem").textContent = answer.error;
    return;
  }
  $("saved").textContent = answer.mustPair ? "Saved. Pair with the service at the new address." : "Saved.";
  await render();
});

$("pair-again").addEventListener("click", () => raw.tabs.create({ url: raw.runtime.getURL("welcome/welcome.html") }));
$("unpair").addEventListener("click", async () => {
  await send(raw, "unpair");
  await render();
});

render();
