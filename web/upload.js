// The upload page: a queue of files and URLs, checked against the server's limits, each with
// its own options, sent to /api/1/upload (the API every client uses) with the session's CSRF
// token, then the links of what was stored and a report of what was not. Everything a user or
// the server wrote reaches the page through textContent or attribute values, never as HTML.

import { announce, copyButton, csrfToken, t } from "./common.js";

/** Chevereto's 23 auto-delete choices, as the ISO 8601 durations the API takes. */
const EXPIRATIONS = [
  "PT5M", "PT15M", "PT30M", "PT1H", "PT3H", "PT6H", "PT12H", "P1D", "P2D", "P3D", "P4D", "P5D",
  "P6D", "P1W", "P2W", "P3W", "P1M", "P2M", "P3M", "P4M", "P5M", "P6M", "P1Y",
];
/** Uploads sent at once. */
const PARALLEL_UPLOADS = 2;
/** Share of an item's bar filled when its bytes are sent; the rest when the server answers. */
const SENT_SHARE = 0.95;

const $ = (id) => document.getElementById(id);
const items = [];
let limits = null;
let nextId = 1;
let batch = [];
let isCancelled = false;
let editing = null;

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// ---- limits ----

async function loadLimits() {
  try {
    const response = await fetch("/api/limits");
    if (!response.ok) throw new Error(String(response.status));
    limits = await response.json();
  } catch {
    $("limits").textContent = t("error.network");
    return;
  }
  $("limits").textContent = t("upload.limits", { types: typeList(), size: limits.max_upload_size });
  $("add-url").hidden = !limits.is_url_upload_enabled;
  for (const item of items) flag(item);
}

function typeList() {
  const video = limits.is_video_enabled ? limits.video_types : [];
  return [...limits.image_types, ...video].join(" ");
}

/** Why a file cannot be uploaded under the limits, or "" when it can. */
function limitBreak(file) {
  if (!limits) return "";
  if (file.size === 0) return t("flag.empty");
  if (file.size > limits.max_upload_bytes) return t("flag.size", { size: limits.max_upload_size });
  // An unknown type ("") is left to the server, which reads the bytes anyway.
  if (file.type && !limits.mime_types.includes(file.type)) {
    return t("flag.type", { types: typeList() });
  }
  return "";
}

function flag(item) {
  if (item.kind !== "file" || item.state !== "queued") return;
  const reason = limitBreak(item.file);
  if (reason) setState(item, "invalid", reason);
}

// ---- the queue ----

function addFiles(files) {
  for (const file of files) {
    add({ kind: "file", file, name: file.name || "image", size: file.size });
  }
}

function addUrl(url) {
  add({ kind: "url", url, name: url, size: 0 });
}

function add(fields) {
  const item = {
    ...fields,
    id: nextId++,
    state: "queued",
    reason: "",
    progress: 0,
    options: { title: "", description: "", tags: "", width: "", expiration: "", nsfw: false },
  };
  items.push(item);
  item.node = queueEntry(item);
  $("queue").append(item.node);
  setState(item, "queued");
  flag(item);
  refresh();
}

function queueEntry(item) {
  const li = element("li", "item");
  const preview = element("button", "preview");
  preview.type = "button";
  preview.setAttribute("aria-label", t("queue.customize", { name: item.name }));
  preview.append(previewMedia(item));
  preview.addEventListener("click", () => openEditor(item));
  const name = element("span", "name", item.name);
  const state = element("span", "state");
  const bar = element("progress", "bar");
  bar.max = 1;
  bar.value = 0;
  const remove = element("button", "remove secondary", "×");
  remove.type = "button";
  remove.setAttribute("aria-label", t("queue.remove", { name: item.name }));
  remove.addEventListener("click", () => removeItem(item));
  li.append(preview, name, state, bar, remove);
  item.parts = { preview, name, state, bar, remove };
  return li;
}

function previewMedia(item) {
  if (item.kind === "url") return element("span", "icon", "URL");
  const type = item.file.type || "";
  if (!type.startsWith("image/") && !type.startsWith("video/")) return extensionIcon(item);
  item.objectUrl = URL.createObjectURL(item.file);
  const media = element(type.startsWith("video/") ? "video" : "img");
  media.src = item.objectUrl;
  if (media.tagName === "VIDEO") {
    media.muted = true;
    media.preload = "metadata";
  } else {
    media.alt = "";
    // A file that claims to be an image but is not one gets its extension instead.
    media.addEventListener("error", () => media.replaceWith(extensionIcon(item)));
  }
  return media;
}

function extensionIcon(item) {
  return element("span", "icon", (item.name.split(".").pop() || "?").toUpperCase());
}

function removeItem(item) {
  if (item.state === "uploading") return;
  items.splice(items.indexOf(item), 1);
  if (item.objectUrl) URL.revokeObjectURL(item.objectUrl);
  item.node.remove();
  refresh();
}

function setState(item, state, reason = "") {
  item.state = state;
  item.reason = reason;
  item.node.dataset.state = state;
  renderItem(item);
}

function renderItem(item) {
  const { state, bar, remove, name } = item.parts;
  const percent = Math.round(item.progress * 100);
  const label = t(`state.${item.state}`, { percent });
  state.textContent = item.reason ? `${label}: ${item.reason}` : label;
  state.classList.toggle("error", item.state === "failed" || item.state === "invalid");
  bar.value = item.progress;
  bar.hidden = item.state !== "uploading";
  remove.disabled = item.state === "uploading";
  name.textContent = item.options.title || item.name;
}

function refresh() {
  const isBusy = batch.some((item) => item.state === "uploading" || item.state === "waiting");
  const queued = items.filter((item) => item.state === "queued");
  const failed = items.filter((item) => item.state === "failed");
  $("queue-section").hidden = items.length === 0;
  $("start").disabled = isBusy || queued.length === 0;
  $("start").hidden = isBusy;
  $("cancel").hidden = !isBusy;
  $("retry").hidden = isBusy || failed.length === 0;
  $("clear").disabled = isBusy;
}

// ---- options ----

function fillExpirations(select) {
  const choices = select.dataset.default === "inherit" ? [["", t("options.as_all")]] : [];
  choices.push(["never", t("options.never")]);
  for (const code of EXPIRATIONS) choices.push([code, t(`exp.${code}`)]);
  for (const [value, label] of choices) {
    const option = element("option", "", label);
    option.value = value;
    select.append(option);
  }
}

function openEditor(item) {
  if (item.state === "uploading" || item.state === "done") return;
  editing = item;
  const { options } = item;
  $("editor-title").textContent = t("options.file", { name: item.name });
  $("edit-title").value = options.title;
  $("edit-description").value = options.description;
  $("edit-tags").value = options.tags;
  $("edit-width").value = options.width;
  $("edit-expiration").value = options.expiration;
  $("edit-nsfw").checked = options.nsfw;
  $("editor").showModal();
  $("edit-title").focus();
}

function closeEditor() {
  const item = editing;
  editing = null;
  if (!item || $("editor").returnValue !== "save") return;
  item.options = {
    title: $("edit-title").value.trim(),
    description: $("edit-description").value.trim(),
    tags: $("edit-tags").value.trim(),
    width: $("edit-width").value.trim(),
    expiration: $("edit-expiration").value,
    nsfw: $("edit-nsfw").checked,
  };
  renderItem(item);
  item.parts.preview.focus();
}

/** The fields sent for an item: its own options over the ones for all files. */
function formFor(item) {
  const own = item.options;
  const body = new FormData();
  if (item.kind === "file") body.append("source", item.file, item.name);
  else body.append("source", item.url);
  body.append("format", "json");
  const expiration = own.expiration || $("global-expiration").value;
  const fields = {
    title: own.title,
    description: own.description,
    tags: own.tags || $("global-tags").value.trim(),
    width: own.width || $("global-width").value.trim(),
    expiration: expiration === "never" ? "" : expiration,
    nsfw: own.nsfw || $("global-nsfw").checked ? "1" : "0",
  };
  for (const [name, value] of Object.entries(fields)) {
    if (value) body.append(name, value);
  }
  return body;
}

// ---- uploading ----

async function start(selected) {
  batch = selected;
  if (batch.length === 0) return;
  isCancelled = false;
  for (const item of batch) {
    item.progress = 0;
    setState(item, "waiting");
  }
  $("total-progress").hidden = false;
  showTotal();
  refresh();
  let next = 0;
  const worker = async () => {
    while (next < batch.length && !isCancelled) await send(batch[next++]);
  };
  await Promise.all(Array.from({ length: PARALLEL_UPLOADS }, worker));
  finishBatch();
}

function send(item) {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    item.xhr = xhr;
    setState(item, "uploading");
    xhr.open("POST", "/api/1/upload");
    xhr.setRequestHeader("X-CSRF-Token", csrfToken());
    xhr.upload.addEventListener("progress", (event) => {
      if (!event.lengthComputable) return;
      item.progress = (event.loaded / event.total) * SENT_SHARE;
      renderItem(item);
      showTotal();
    });
    xhr.addEventListener("load", () => resolve(answered(item, xhr)));
    xhr.addEventListener("error", () => resolve(failed(item, t("error.network"))));
    xhr.addEventListener("abort", () => resolve(failed(item, t("result.cancelled"))));
    xhr.send(formFor(item));
  });
}

function answered(item, xhr) {
  let json = null;
  try {
    json = JSON.parse(xhr.responseText);
  } catch {
    json = null;
  }
  if (xhr.status === 200 && json?.image) {
    item.progress = 1;
    item.result = json.image;
    setState(item, "done");
    $("results").append(resultCard(item));
  } else {
    failed(item, serverMessage(xhr.status, json));
  }
  showTotal();
}

function failed(item, message) {
  item.progress = 1;
  setState(item, "failed", message);
  showTotal();
}

/** The page's own words for a Chevereto error code, with the server's message after them. */
function serverMessage(status, json) {
  const error = json?.error;
  if (!error) return t("error.server");
  const key = status === 413 ? "error.413" : `error.${error.code}`;
  const own = t(key, { size: limits?.max_upload_size ?? "" });
  if (own === key || error.message.startsWith(own)) return error.message;
  return `${own} (${error.message})`;
}

function cancel() {
  isCancelled = true;
  for (const item of batch) {
    if (item.state === "uploading") item.xhr.abort();
    else if (item.state === "waiting") failed(item, t("result.cancelled"));
  }
}

/** The bar follows every step; the status line, a live region, only each tenth. */
function showTotal() {
  const percent = batch.length
    ? Math.floor((batch.reduce((sum, item) => sum + item.progress, 0) / batch.length) * 100)
    : 0;
  $("total-progress").value = percent;
  const shown = percent === 100 ? 100 : percent - (percent % 10);
  const key = batch.length === 1 ? "progress.one" : "progress.other";
  const text = t(key, { count: batch.length, percent: shown });
  if ($("status").textContent !== text) $("status").textContent = text;
}

function finishBatch() {
  refresh();
  if (isCancelled) announce(t("progress.cancelled"));
  showResults();
}

// ---- results ----

function showResults() {
  const done = items.filter((item) => item.state === "done");
  const broken = items.filter((item) => item.state === "failed" || item.state === "invalid");
  $("results-section").hidden = false;
  $("results-heading").textContent = done.length ? t("result.complete") : "";
  $("results-heading").hidden = done.length === 0;
  $("error-box").hidden = broken.length === 0;
  $("error-title").textContent = t("result.errors");
  $("error-note").hidden = done.length === 0;
  $("error-report").replaceChildren(...broken.map(reportLine));
  announce(done.length ? t("result.complete") : t("result.errors"));
}

function reportLine(item) {
  const li = element("li");
  li.append(element("strong", "", item.name), document.createTextNode(`: ${item.reason}`));
  return li;
}

function resultCard(item) {
  const image = item.result;
  const title = image.title || image.filename || item.name;
  const card = element("li", "result");
  const link = element("a", "thumb");
  link.href = image.url_viewer;
  const thumb = element("img");
  thumb.src = image.thumb.url;
  thumb.alt = title;
  thumb.loading = "lazy";
  link.append(thumb);
  const body = element("div", "links");
  body.append(element("p", "name", title));
  for (const [key, value] of shareLinks(image, title)) body.append(linkRow(key, value));
  card.append(link, body);
  return card;
}

/** The links and embed codes of a stored upload, by catalog key. */
function shareLinks(image, title) {
  const alt = title.replace(/[\]\[()<>"&]/g, "");
  return [
    ["link.viewer", image.url_viewer],
    ["link.direct", image.url],
    ["link.thumb", image.thumb.url],
    ["link.markdown", `[![${alt}](${image.url})](${image.url_viewer})`],
    ["link.html", `<a href="${image.url_viewer}"><img src="${image.url}" alt="${alt}"></a>`],
    ["link.bbcode", `[url=${image.url_viewer}][img]${image.url}[/img][/url]`],
    ["link.delete", image.delete_url],
  ];
}

function linkRow(key, value) {
  const row = element("label", "link-row");
  const field = element("input");
  field.readOnly = true;
  field.value = value;
  field.dataset.link = key.slice(5);
  field.addEventListener("focus", () => field.select());
  row.append(element("span", "", t(key)), field, copyButton(() => field.value, t(key)));
  return row;
}

function startOver() {
  for (const item of [...items]) {
    if (item.state !== "uploading") removeItem(item);
  }
  batch = [];
  $("results").replaceChildren();
  $("results-section").hidden = true;
  $("total-progress").hidden = true;
  $("status").textContent = "";
  refresh();
  $("browse").focus();
}

// ---- getting files in ----

function isFileDrag(event) {
  return [...(event.dataTransfer?.types ?? [])].includes("Files");
}

function initDrop() {
  const overlay = $("drop-overlay");
  window.addEventListener("dragenter", (event) => {
    if (isFileDrag(event)) overlay.hidden = false;
  });
  window.addEventListener("dragover", (event) => {
    if (isFileDrag(event)) event.preventDefault();
  });
  overlay.addEventListener("dragleave", () => (overlay.hidden = true));
  window.addEventListener("drop", (event) => {
    if (!isFileDrag(event)) return;
    event.preventDefault();
    overlay.hidden = true;
    addFiles(event.dataTransfer.files);
  });
}

function initPaste() {
  document.addEventListener("paste", (event) => {
    const target = event.target;
    if (target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement) return;
    const files = [...(event.clipboardData?.files ?? [])];
    if (files.length) {
      event.preventDefault();
      addFiles(files);
      return;
    }
    const text = event.clipboardData?.getData("text") ?? "";
    if (limits?.is_url_upload_enabled && /^https?:\/\//i.test(text.trim())) {
      event.preventDefault();
      addUrls(text);
    }
  });
}

/** Adds every line of `text` that is an http(s) URL; returns the lines that are not. */
function addUrls(text) {
  const wrong = [];
  for (const line of text.split(/\s+/).filter(Boolean)) {
    if (/^https?:\/\/[^\s]+$/i.test(line)) addUrl(line);
    else wrong.push(line);
  }
  return wrong;
}

function initUrlForm() {
  const form = $("url-form");
  $("add-url").addEventListener("click", () => {
    form.hidden = false;
    $("url-input").focus();
  });
  $("url-cancel").addEventListener("click", () => (form.hidden = true));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const wrong = addUrls($("url-input").value);
    $("url-error").textContent = wrong.map((url) => t("url.invalid", { url })).join(" ");
    if (wrong.length === 0) {
      $("url-input").value = "";
      form.hidden = true;
    }
  });
}

function init() {
  fillExpirations($("global-expiration"));
  fillExpirations($("edit-expiration"));
  $("browse").addEventListener("click", () => $("file-input").click());
  $("file-input").addEventListener("change", (event) => {
    addFiles(event.target.files);
    event.target.value = "";
  });
  $("start").addEventListener("click", () => start(items.filter((i) => i.state === "queued")));
  $("retry").addEventListener("click", () => {
    const again = items.filter((item) => item.state === "failed");
    for (const item of again) item.reason = "";
    start(again);
  });
  $("cancel").addEventListener("click", cancel);
  $("clear").addEventListener("click", startOver);
  $("again").addEventListener("click", startOver);
  $("editor").addEventListener("close", closeEditor);
  initDrop();
  initPaste();
  initUrlForm();
  loadLimits();
}

init();
