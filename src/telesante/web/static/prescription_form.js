// "Ajouter une ligne" on the ordonnance form: a copy of the blank line from the page's <template>.
// Without JavaScript the form still sends its one line; the button stays hidden.
const lines = document.getElementById("rx-lines");
const template = document.getElementById("rx-line-template");
const add = document.getElementById("rx-add-line");
const ATTRIBUTES = ["id", "name", "for", "aria-describedby"];

function nextIndex() {
  // Field names are lines-<n>-<field>; the server keeps their order and drops blank lines.
  const used = [...lines.querySelectorAll("[name^='lines-']")].map((el) => Number(el.name.split("-")[1]));
  return used.length ? Math.max(...used) + 1 : 0;
}

function addLine() {
  const index = nextIndex();
  const copy = template.content.cloneNode(true);
  for (const element of copy.querySelectorAll("*")) {
    for (const attribute of ATTRIBUTES) {
      const value = element.getAttribute(attribute);
      if (value) element.setAttribute(attribute, value.replaceAll("__i__", String(index)));
    }
  }
  copy.querySelector(".rx-number").textContent = String(lines.querySelectorAll(".rx-line").length + 1);
  const first = copy.querySelector("input");
  lines.append(copy);
  first.focus();
}

if (lines && template && add) {
  add.hidden = false;
  add.addEventListener("click", addLine);
}
