// photocheck counter page: choose, drop, paste or photograph a KTP-el picture, send it to
// POST /v1/check, show the verdict, reasons, annotated photo and key measures, print a slip.
// Plain browser JavaScript: no framework, no build step, nothing from another origin.
// Texts come from GET /v1/messages (photocheck/i18n.py): one source for page, API and CLI.
"use strict";

(() => {
  const KEY_STORE = "photocheck.apiKey"; // this tab only: gone when the tab is closed
  const LANG_STORE = "photocheck.lang";
  const DEFAULT_LANG = "id";
  const JPEG_QUALITY = 0.95; // camera snapshots
  const $ = (id) => document.getElementById(id);

  const state = {
    lang: DEFAULT_LANG,
    messages: {}, // lang -> {key: text}
    health: null, // GET /v1/health: limits, whether a key is needed
    file: null, // the photo being judged (Blob), kept in memory only
    fileName: "",
    thumbUrl: null, // object URL of the photo, for the slip
    apiKey: sessionStorage.getItem(KEY_STORE) || "",
    stream: null, // camera MediaStream while the camera is open
    sequence: 0, // answers to superseded requests are dropped
    last: null, // the last CheckResponse shown
  };

  // ---- Texts ------------------------------------------------------------------------------

  const t = (key) => (state.messages[state.lang] || {})[key] || key;

  async function loadMessages(lang) {
    if (state.messages[lang]) return;
    const response = await fetch(`/v1/messages?lang=${encodeURIComponent(lang)}`);
    if (!response.ok) throw new Error(`messages: HTTP ${response.status}`);
    state.messages[lang] = (await response.json()).messages;
  }

  function applyTexts() {
    document.documentElement.lang = state.lang;
    document.title = t("page.title");
    for (const element of document.querySelectorAll("[data-i18n]")) {
      element.textContent = t(element.dataset.i18n);
    }
    document.querySelector(".lang").setAttribute("aria-label", t("page.language"));
    for (const button of document.querySelectorAll(".lang button")) {
      button.setAttribute("aria-pressed", String(button.dataset.lang === state.lang));
    }
  }

  async function setLanguage(lang) {
    if (lang === state.lang) return;
    try {
      await loadMessages(lang);
    } catch (error) {
      showProblem(t("page.network_error"));
      return;
    }
    state.lang = lang;
    sessionStorage.setItem(LANG_STORE, lang);
    applyTexts();
    // The explanation and the annotation's header are in the request's language: ask again.
    if (state.file) check({ keepResult: true });
    else showIdle();
  }

  // ---- Screen states ------------------------------------------------------------------------

  function setVerdict(decision, text, request) {
    $("verdict").dataset.decision = decision;
    $("verdict-text").textContent = text;
    $("verdict-request").textContent = request || "";
  }

  function setStatus(text, problem = false) {
    $("status").textContent = text;
    $("status").classList.toggle("problem", problem);
  }

  function showIdle() {
    setVerdict("none", t("page.waiting"));
    setStatus(t("page.waiting_hint"));
    $("result").hidden = true;
    $("actions").hidden = true;
    state.last = null;
  }

  function showChecking(keepResult) {
    if (keepResult && state.last) {
      $("result").classList.add("busy");
    } else {
      setVerdict("checking", t("page.checking"));
      $("result").hidden = true;
      $("actions").hidden = true;
      state.last = null;
    }
    setStatus(t("page.checking"));
  }

  function showProblem(message) {
    $("result").classList.remove("busy");
    if (!state.last) setVerdict("error", t("decision.error"));
    setStatus(message, true);
  }

  function formatBytes(bytes) {
    return bytes >= 1048576 ? `${(bytes / 1048576).toFixed(0)} MB` : `${Math.ceil(bytes / 1024)} kB`;
  }

  function listItem(text, evidence) {
    const item = document.createElement("li");
    item.append(text);
    for (const line of evidence || []) {
      const small = document.createElement("span");
      small.className = "evidence";
      small.textContent = line;
      item.append(small);
    }
    return item;
  }

  function fillMeasures(tbody, measures) {
    tbody.replaceChildren(...measures.map((measure) => {
      const row = document.createElement("tr");
      const label = document.createElement("td");
      const value = document.createElement("td");
      label.textContent = measure.label;
      value.textContent = measure.display;
      row.append(label, value);
      return row;
    }));
  }

  function showResult(body, elapsedMs) {
    const { result, explanation, annotation } = body;
    state.last = body;
    // A new photo (capture profile) answers no citizen's request: no request line.
    const request = result.policy.kind === "capture" ? ""
      : `${t("ui.request")}: ${explanation.request}`;
    setVerdict(result.decision, explanation.verdict, request);
    setStatus(`${t("page.checked_in")} ${Math.round(elapsedMs)} ms`);

    const reasons = explanation.reasons.map((reason) => listItem(reason.text, reason.evidence));
    if (explanation.error) {
      reasons.push(listItem(explanation.error, [`${result.error.code}: ${result.error.message}`]));
    }
    $("reasons").replaceChildren(...reasons);
    $("reasons").className = `reason-list verdict-color-${result.decision}`;
    fillMeasures($("measures").tBodies[0], explanation.measures);
    $("measures").hidden = explanation.measures.length === 0;
    $("measures-title").hidden = explanation.measures.length === 0;
    $("meta").textContent =
      `${t("page.slip_policy")}: ${result.policy.name} ${result.policy.version} | photocheck ${result.version}`;

    const image = $("annotated");
    image.closest("figure").hidden = !annotation;
    $("result").classList.toggle("no-picture", !annotation);
    if (annotation) {
      image.src = `data:${annotation.media_type};base64,${annotation.data}`;
      image.alt = t("page.annotated");
    } else {
      image.removeAttribute("src");
    }
    $("result").hidden = false;
    $("result").classList.remove("busy");
    $("actions").hidden = false;
    fillSlip(body);
    // One column (tablet): bring the verdict into view if the controls pushed it down.
    const box = $("verdict").getBoundingClientRect();
    if (box.top < 0 || box.top > window.innerHeight * 0.6) {
      $("verdict").scrollIntoView({ block: "start", behavior: "smooth" });
    }
  }

  function fillSlip(body) {
    const { result, explanation } = body;
    const locale = state.lang === "id" ? "id-ID" : "en-GB";
    const when = new Date().toLocaleString(locale, { dateStyle: "long", timeStyle: "short" });
    $("slip-date").textContent = `${t("page.slip_date")}: ${when}`;
    $("slip-verdict").textContent = explanation.verdict;
    $("slip-verdict").dataset.decision = result.decision;
    $("slip-request").textContent = explanation.request;
    const reasons = explanation.reasons.map((reason) => listItem(reason.text, reason.evidence));
    if (explanation.error) reasons.push(listItem(explanation.error));
    $("slip-reasons").replaceChildren(...reasons);
    $("slip-policy").textContent = `${result.policy.name} ${result.policy.version}`;
    $("slip-software").textContent = `photocheck ${result.version}`;
    fillMeasures($("slip-measures").tBodies[0], explanation.measures);
    $("slip-thumb").src = state.thumbUrl || "";
  }

  // ---- Checking ---------------------------------------------------------------------------

  function selectedReason() {
    return document.querySelector("input[name=reason]:checked").value;
  }

  function selectedMode() {
    return document.querySelector("input[name=mode]:checked").value;
  }

  function showMode() {
    const isNew = selectedMode() === "new";
    $("birth-year-box").hidden = !isNew; // the background colour rule needs it
    $("reason-box").hidden = isNew; // a new photo has no request reason
  }

  async function check({ keepResult = false } = {}) {
    if (!state.file) return;
    if (state.health && state.health.api_key_required && !state.apiKey) {
      showKey(false);
      return;
    }
    const sequence = ++state.sequence;
    showChecking(keepResult);
    const form = new FormData();
    form.append("image", state.file, state.fileName || "photo");
    form.append("mode", selectedMode());
    if (selectedMode() === "new") {
      const year = $("birth-year").value.trim();
      if (year) form.append("birth_year", year);
    } else {
      form.append("reason", selectedReason());
    }
    form.append("lang", state.lang);
    form.append("annotate", "true");
    form.append("annotation_format", "jpeg");
    form.append("annotation_header", "false"); // the page shows the words itself
    const headers = state.apiKey ? { "X-API-Key": state.apiKey } : {};
    const started = performance.now();
    let response;
    let body = null;
    try {
      response = await fetch("/v1/check", { method: "POST", body: form, headers });
      body = await response.json().catch(() => null);
    } catch (error) {
      if (sequence === state.sequence) showProblem(t("page.network_error"));
      return;
    }
    if (sequence !== state.sequence) return; // a newer photo, reason or language took over
    if (response.status === 401) {
      forgetKey();
      showKey(true);
      showProblem(t("page.api_key_wrong"));
      return;
    }
    if (response.status === 503 || response.status === 408) {
      showProblem(response.status === 503 ? t("page.busy") : t("page.upload_stalled"));
      return;
    }
    if (!body || !body.result) {
      showProblem(`HTTP ${response.status}${body && body.detail ? `: ${body.detail}` : ""}`);
      return;
    }
    showResult(body, performance.now() - started);
  }

  function useFile(blob, name) {
    if (!blob) return;
    const limit = state.health && state.health.limits.max_upload_bytes;
    if (limit && blob.size > limit) {
      state.file = null;
      state.last = null;
      $("result").hidden = true;
      $("actions").hidden = true;
      setVerdict("error", t("decision.error"));
      setStatus(`${t("page.file_too_large")} ${formatBytes(limit)}`, true);
      return;
    }
    if (state.thumbUrl) URL.revokeObjectURL(state.thumbUrl);
    state.file = blob;
    state.fileName = name || "photo";
    state.thumbUrl = URL.createObjectURL(blob);
    check();
  }

  function clearAll() {
    state.sequence += 1; // drop any answer still on its way
    state.file = null;
    if (state.thumbUrl) URL.revokeObjectURL(state.thumbUrl);
    state.thumbUrl = null;
    $("file").value = "";
    $("annotated").removeAttribute("src");
    $("slip-thumb").removeAttribute("src");
    for (const id of ["reasons", "slip-reasons"]) $(id).replaceChildren();
    showIdle();
  }

  // ---- API key ------------------------------------------------------------------------------

  function showKey(wrong) {
    $("key-box").hidden = false;
    $("key-error").hidden = !wrong;
    $("api-key").focus();
  }

  function forgetKey() {
    state.apiKey = "";
    sessionStorage.removeItem(KEY_STORE);
  }

  function saveKey(event) {
    event.preventDefault();
    state.apiKey = $("api-key").value.trim();
    if (!state.apiKey) {
      showKey(true);
      return;
    }
    sessionStorage.setItem(KEY_STORE, state.apiKey);
    $("api-key").value = "";
    $("key-box").hidden = true;
    if (state.file) check();
  }

  // ---- Camera (webcam or document camera) ------------------------------------------------------

  async function openCamera() {
    $("camera-error").hidden = true;
    // Browsers offer cameras only to secure pages: https, or http on localhost.
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      $("camera-error").hidden = false;
      return;
    }
    try {
      state.stream = await navigator.mediaDevices.getUserMedia({
        video: { facingMode: "environment", width: { ideal: 1920 }, height: { ideal: 1080 } },
        audio: false,
      });
    } catch (error) {
      $("camera-error").hidden = false;
      return;
    }
    $("camera-video").srcObject = state.stream;
    $("camera").hidden = false;
    $("camera-open").hidden = true;
  }

  function closeCamera() {
    if (state.stream) for (const track of state.stream.getTracks()) track.stop();
    state.stream = null;
    $("camera-video").srcObject = null;
    $("camera").hidden = true;
    $("camera-open").hidden = false;
  }

  function takePhoto() {
    const video = $("camera-video");
    if (!video.videoWidth) return;
    const canvas = document.createElement("canvas");
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    canvas.getContext("2d").drawImage(video, 0, 0);
    canvas.toBlob((blob) => {
      closeCamera();
      useFile(blob, "camera.jpg");
    }, "image/jpeg", JPEG_QUALITY);
  }

  // ---- Wiring ----------------------------------------------------------------------------------

  function firstImage(items) {
    // FileList and DataTransferItemList are array-like, not iterable everywhere.
    for (const item of Array.from(items || [])) {
      const file = item instanceof File ? item : item.kind === "file" ? item.getAsFile() : null;
      if (file) return file;
    }
    return null;
  }

  function bind() {
    $("file").addEventListener("change", (event) => {
      const file = event.target.files[0];
      if (file) useFile(file, file.name);
      event.target.value = ""; // choosing the same file again still triggers a check
    });
    const zone = $("dropzone");
    // A photo dropped anywhere on the page is taken; the browser must not open it instead.
    document.addEventListener("dragover", (event) => {
      event.preventDefault();
      zone.classList.add("dragover");
    });
    document.addEventListener("dragleave", (event) => {
      if (!event.relatedTarget) zone.classList.remove("dragover");
    });
    document.addEventListener("drop", (event) => {
      event.preventDefault();
      zone.classList.remove("dragover");
      const file = firstImage(event.dataTransfer && event.dataTransfer.files);
      if (file) useFile(file, file.name);
    });
    document.addEventListener("paste", (event) => {
      const file = firstImage(event.clipboardData && event.clipboardData.items);
      if (file) useFile(file, file.name || "pasted.png");
    });
    for (const radio of document.querySelectorAll("input[name=reason]")) {
      radio.addEventListener("change", () => check({ keepResult: true }));
    }
    for (const radio of document.querySelectorAll("input[name=mode]")) {
      radio.addEventListener("change", () => {
        showMode();
        check({ keepResult: true });
      });
    }
    $("birth-year").addEventListener("change", () => check({ keepResult: true }));
    for (const button of document.querySelectorAll(".lang button")) {
      button.addEventListener("click", () => setLanguage(button.dataset.lang));
    }
    $("camera-open").addEventListener("click", openCamera);
    $("camera-close").addEventListener("click", closeCamera);
    $("camera-shoot").addEventListener("click", takePhoto);
    $("key-box").addEventListener("submit", saveKey);
    $("print").addEventListener("click", () => window.print());
    $("clear").addEventListener("click", clearAll);
  }

  async function start() {
    bind();
    const wanted = sessionStorage.getItem(LANG_STORE) || DEFAULT_LANG;
    try {
      const [health] = await Promise.all([
        fetch("/v1/health").then((response) => response.json()),
        loadMessages(wanted),
      ]);
      state.health = health;
      state.lang = wanted;
    } catch (error) {
      // Without texts the page cannot speak; say so in both languages.
      setVerdict("error", "Layanan tidak dapat dihubungi / Service unreachable");
      return;
    }
    applyTexts();
    showIdle();
    if (state.health.api_key_required && !state.apiKey) showKey(false);
    document.body.dataset.ready = "true"; // for end-to-end tests
  }

  start();
})();
