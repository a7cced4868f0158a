// "Listen on your phone": ask the studio to serve FOLDER on the home network (POST /api/phone)
// and show the feed's address and its QR code; "Stop sharing" ends it (DELETE /api/phone).

import { api, showStatus } from "./api.js";

const $ = (id) => document.getElementById(id);

async function open() {
  const dialog = $("phone-dialog"), button = $("phone");
  button.disabled = true;
  try {
    const shared = await api("POST", "/api/phone", {});
    // Parsed as HTML, as it would be inline in the page: an <svg> there is SVG without xmlns.
    const svg = new DOMParser().parseFromString(shared.qr, "text/html").querySelector("svg");
    $("phone-qr").replaceChildren(document.importNode(svg, true));
    $("phone-url").value = shared.url;
    const note = $("phone-note");
    note.hidden = shared.reachable;
    note.textContent = shared.reachable ? "" :
      "No network address was found: put this computer's address in place of 127.0.0.1.";
    dialog.showModal();
    $("phone-url").select();
  } catch (err) {
    showStatus(`Could not share the folder: ${err.message}`, "error");
  } finally {
    button.disabled = false;
  }
}

async function stop() {
  try {
    await api("DELETE", "/api/phone");
    $("phone-dialog").close();
    showStatus("Stopped sharing the folder with your phone.");
  } catch (err) {
    showStatus(`Could not stop sharing: ${err.message}`, "error");
  }
}

$("phone").addEventListener("click", open);
$("phone-stop").addEventListener("click", stop);
$("phone-close").addEventListener("click", () => $("phone-dialog").close());
