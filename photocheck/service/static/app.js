// photocheck counter page: choose, drop, paste or photograph a KTP-el picture, send it to
// POST /v1/check, show the verdict, reasons, annotated photo and key measures, print a slip.
// Plain browser JavaScript: no framework, no build step, nothing from another origin.
// Texts come from GET /v1/messages (photocheck/i18n.py): one source for page, API and CLI.
// The slip: no slip for a photo that could not be checked; "no face found" needs the officer's
// confirmation that the file is the applicant's portrait first. The applicant's name and NIK
// are typed for printing only: they are never sent, stored or put in the URL.
"use strict";

(() => {
  const KEY_STORE = "photocheck.apiKey"; // this tab only: gone when the tab is closed
  const LANG_STORE = "photocheck.lang";
  const DEFAULT_LANG = "id";
  const JPEG_QUALITY = 0.95; // camera snapshots
  const TIME_ZONE = "Asia/Jakarta"; // the slip's date and time are WIB
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
    sha256: "", // of the photo's bytes, hex, for the slip
  };

  // ---- SHA-256 of the photo (for the slip's audit line) ---------------------------------
  // In JavaScript rather than crypto.subtle, which browsers offer only on https or localhost
  // pages: the counter van serves its tablets over plain http on a LAN.

  const SHA256_K = new Uint32Array([
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
  ]);

  function sha256Hex(bytes) {
    const length = bytes.length;
    const padded = new Uint8Array(((length + 72) >> 6) << 6);
    padded.set(bytes);
    padded[length] = 0x80;
    const bits = new DataView(padded.buffer);
    bits.setUint32(padded.length - 8, Math.floor(length / 0x20000000));
    bits.setUint32(padded.length - 4, (length << 3) >>> 0);
    const h = new Uint32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
      0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
    const w = new Uint32Array(64);
    const rotr = (x, n) => (x >>> n) | (x << (32 - n));
    for (let offset = 0; offset < padded.length; offset += 64) {
      for (let i = 0; i < 16; i++) w[i] = bits.getUint32(offset + 4 * i);
      for (let i = 16; i < 64; i++) {
        const s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >>> 3);
        const s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >>> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
      }
      let [a, b, c, d, e, f, g, k] = h;
      for (let i = 0; i < 64; i++) {
        const t1 = k + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g))
          + SHA256_K[i] + w[i];
        const t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        k = g; g = f; f = e; e = (d + t1) >>> 0; d = c; c = b; b = a; a = (t1 + t2) >>> 0;
      }
      h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += k;
    }
    return Array.from(h, (word) => word.toString(16).padStart(8, "0")).join("");
  }

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
    $("slip-box").hidden = true;
    state.last = null;
    $("slip").hidden = true;
  }

  function showChecking(keepResult) {
    if (keepResult && state.last) {
      $("result").classList.add("busy");
    } else {
      setVerdict("checking", t("page.checking"));
      $("result").hidden = true;
      $("actions").hidden = true;
      $("slip-box").hidden = true;
      state.last = null;
      $("slip").hidden = true;
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
      // The code helps the administrator; the English technical message stays in the JSON.
      reasons.push(listItem(explanation.error, [`${t("page.error_code")}: ${result.error.code}`]));
    }
    $("reasons").replaceChildren(...reasons);
    $("review-hint").hidden = result.decision !== "review";
    $("reasons").className = `reason-list verdict-color-${result.decision}`;
    fillMeasures($("measures").tBodies[0], explanation.measures);
    $("measures").hidden = explanation.measures.length === 0;
    $("measures-title").hidden = explanation.measures.length === 0;
    $("meta").textContent =
      `${t("page.slip_policy")}: ${result.policy.name} ${result.policy.version} | photocheck ${result.version}`;

    const image = $("annotated");
    image.closest("figure").hidden = !annotation;
    fillLegend(annotation ? annotation.marks || [] : [], result.decision);
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
    showSlipControls(result);
    // One column (tablet): bring the verdict into view if the controls pushed it down.
    const box = $("verdict").getBoundingClientRect();
    if (box.top < 0 || box.top > window.innerHeight * 0.6) {
      $("verdict").scrollIntoView({ block: "start", behavior: "smooth" });
    }
  }

  function fillLegend(marks, decision) {
    $("legend").replaceChildren(...marks.map((mark) => {
      const item = document.createElement("li");
      const swatch = document.createElement("span");
      swatch.className = `swatch mark-${mark}`;
      if (mark === "face_box") swatch.dataset.decision = decision;
      item.append(swatch, t(`legend.${mark}`));
      return item;
    }));
    $("legend").closest("figcaption").hidden = marks.length === 0;
  }

  // A slip needs a judged photo; "no face found" needs the officer's confirmation first.
  function needsConfirmation(result) {
    return result.reasons.includes("no_face");
  }

  function slipAllowed() {
    const result = state.last && state.last.result;
    if (!result || result.decision === "error") return false;
    return !needsConfirmation(result) || $("confirm-portrait").checked;
  }

  function showSlipControls(result) {
    const judged = result.decision !== "error";
    $("slip-box").hidden = false;
    $("no-slip").hidden = judged;
    $("slip-inputs").hidden = !judged;
    $("print").hidden = !judged;
    $("confirm-box").hidden = !judged || !needsConfirmation(result);
    updatePrint();
  }

  function updatePrint() {
    const allowed = slipAllowed();
    const judged = Boolean(state.last) && state.last.result.decision !== "error";
    $("print").disabled = !allowed;
    $("slip").hidden = !allowed; // printing from the browser menu gives no slip either
    $("confirm-needed").hidden = allowed || !judged; // says why the button waits
  }

  function printSlip() {
    if (slipAllowed()) window.print();
  }

  // Typed values go onto the slip only (textContent), at print time.
  function fillApplicant() {
    $("slip-name").textContent = $("applicant-name").value.trim();
    $("slip-nik").textContent = $("applicant-nik").value.trim();
  }

  function forgetApplicant() {
    $("applicant-name").value = "";
    $("applicant-nik").value = "";
    $("confirm-portrait").checked = false;
    fillApplicant();
  }

  function fillSlip(body) {
    const { result, explanation } = body;
    const locale = state.lang === "id" ? "id-ID" : "en-GB";
    const when = new Date().toLocaleString(locale, {
      dateStyle: "long", timeStyle: "short", timeZone: TIME_ZONE });
    $("slip-date").textContent = `${t("page.slip_date")}: ${when} ${t("page.slip_timezone")}`;
    $("slip-verdict").textContent = explanation.verdict;
    $("slip-verdict").dataset.decision = result.decision;
    $("slip-request").textContent = explanation.request;
    const reasons = explanation.reasons.map((reason) => listItem(reason.text, reason.evidence));
    if (explanation.error) reasons.push(listItem(explanation.error));
    $("slip-reasons").replaceChildren(...reasons);
    $("slip-policy").textContent = `${result.policy.name} ${result.policy.version}`;
    $("slip-software").textContent = `photocheck ${result.version}`;
    $("slip-sha256").textContent = state.sha256;
    fillApplicant();
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
      // No result to explain (a proxy's or server's own error page): the status is for support.
      showProblem(`${t("page.network_error")} (HTTP ${response.status})`);
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
      for (const id of ["result", "actions", "slip-box", "slip"]) $(id).hidden = true;
      setVerdict("error", t("decision.error"));
      setStatus(`${t("page.file_too_large")} ${formatBytes(limit)}`, true);
      return;
    }
    if (state.thumbUrl) URL.revokeObjectURL(state.thumbUrl);
    state.file = blob;
    state.fileName = name || "photo";
    state.thumbUrl = URL.createObjectURL(blob);
    state.sha256 = "";
    forgetApplicant(); // a new photo is a new applicant
    blob.arrayBuffer().then((buffer) => {
      if (state.file !== blob) return;
      state.sha256 = sha256Hex(new Uint8Array(buffer));
      $("slip-sha256").textContent = state.sha256;
    });
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
    for (const id of ["reasons", "slip-reasons", "legend"]) $(id).replaceChildren();
    state.sha256 = "";
    forgetApplicant();
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
    $("print").addEventListener("click", printSlip);
    $("confirm-portrait").addEventListener("change", updatePrint);
    window.addEventListener("beforeprint", fillApplicant);
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
