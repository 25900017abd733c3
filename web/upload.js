// The upload page: sends each chosen file to /api/1/upload with the API key and lists the links.
const form = document.getElementById("upload-form");
const keyInput = document.getElementById("api-key");
const filesInput = document.getElementById("files");
const dropZone = document.getElementById("drop-zone");
const statusLine = document.getElementById("status");
const results = document.getElementById("results");

document.getElementById("endpoint").textContent = `${location.origin}/api/1/upload`;
keyInput.value = localStorage.getItem("sajin-api-key") ?? "";

for (const type of ["dragenter", "dragover"]) {
  dropZone.addEventListener(type, (event) => {
    event.preventDefault();
    dropZone.classList.add("over");
  });
}
for (const type of ["dragleave", "drop"]) {
  dropZone.addEventListener(type, () => dropZone.classList.remove("over"));
}
dropZone.addEventListener("drop", (event) => {
  event.preventDefault();
  filesInput.files = event.dataTransfer.files;
});

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  localStorage.setItem("sajin-api-key", keyInput.value);
  const files = [...filesInput.files];
  let done = 0;
  for (const file of files) {
    statusLine.textContent = `Uploading ${done + 1} of ${files.length}…`;
    results.append(await uploadOne(file));
    done += 1;
  }
  statusLine.textContent = `Done: ${done} file(s).`;
});

async function uploadOne(file) {
  const body = new FormData();
  body.append("source", file);
  const item = document.createElement("li");
  try {
    const response = await fetch("/api/1/upload", {
      method: "POST",
      headers: { "X-API-Key": keyInput.value },
      body,
    });
    const json = await response.json();
    if (!response.ok) throw new Error(json.error?.message ?? response.statusText);
    const thumb = document.createElement("img");
    thumb.src = json.image.thumb.url;
    thumb.alt = "";
    const link = document.createElement("a");
    link.href = json.image.url_viewer;
    link.textContent = json.image.url_viewer;
    const remove = document.createElement("a");
    remove.href = json.image.delete_url;
    remove.textContent = "delete link";
    item.append(thumb, link, remove);
  } catch (error) {
    item.className = "error";
    item.textContent = `${file.name}: ${error.message}`;
  }
  return item;
}
