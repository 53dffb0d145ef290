// The web page of `jimeng serve`. Plain browser JavaScript, no dependencies. It talks only to the service's
// documented API with the key from this tab's session storage (sent in the Authorization header, never in a
// URL). Every string from the service goes into the page through textContent, never as HTML.

const KEY_STORAGE = "jimeng.apiKey";
const FINAL = new Set(["completed", "failed", "cancelled"]);
/** Browsers open 6 connections per host: keep some free for requests, thumbnails and the polling. */
const MAX_STREAMS = 3;
const POLL_MS = 2000;
const RATIOS = ["1:1", "4:3", "3:4", "16:9", "9:16", "3:2", "2:3", "21:9"];

const $ = (id) => document.getElementById(id);

const state = {
  key: sessionStorage.getItem(KEY_STORAGE) ?? "",
  me: null,
  /** task id → the service's task record (GET /api/v1/tasks/:id shape). */
  tasks: new Map(),
  /** task id → its card. */
  cards: new Map(),
  /** task id → {route, body} the page sent, so a retry can send it again. */
  sent: new Map(),
  /** task id → AbortController of its open event stream. */
  streams: new Map(),
  /** tasks whose stream failed: the polling keeps them current. */
  noStream: new Set(),
  /** output URL → blob URL (outputs need the key, so the page fetches them). */
  blobs: new Map(),
  busy: 0,
  pollTimer: 0,
  uploaded: null,
};

class ApiError extends Error {
  constructor(status, error, message, extra = {}) {
    super(message);
    this.status = status;
    this.error = error;
    this.retryAfter = extra.retryAfter;
    this.requestId = extra.requestId;
  }
}

/** One call of the service's API. Throws ApiError with the service's own `{error, message}`. */
async function api(path, { method = "GET", body, form, signal, raw } = {}) {
  const headers = { authorization: `Bearer ${state.key}` };
  let payload;
  if (form) payload = form;
  else if (body !== undefined) {
    headers["content-type"] = "application/json";
    payload = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, { method, headers, body: payload, signal, cache: "no-store" });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, "no answer", "The service did not answer.");
  }
  if (raw && response.ok) return response;
  const text = await response.text();
  let json = {};
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    json = { message: text.slice(0, 300) };
  }
  if (!response.ok) {
    throw new ApiError(
      response.status,
      String(json.error ?? `HTTP ${response.status}`),
      String(json.message ?? response.statusText),
      {
        retryAfter: response.headers.get("retry-after") ?? undefined,
        requestId: response.headers.get("x-request-id") ?? undefined,
      },
    );
  }
  return json;
}

/** What the user can do about a refusal, by HTTP status. */
function advice(error) {
  switch (error.status) {
    case 0:
      return "Check that jimeng serve is running and reachable, then try again.";
    case 400:
      return "Fix the field named above and send again.";
    case 401:
      return "Sign in again with a valid API key; the service's admin can create one.";
    case 402:
      return "Ask the service's admin to add credits to your user.";
    case 403:
      return "This key may not do that: sign in with the key of the right user.";
    case 404:
      return "It belongs to another user or no longer exists: refresh the task list.";
    case 409:
      return "Refresh the task list: the task has moved on since you looked.";
    case 413:
      return "Choose a smaller file (at most 10 MB).";
    case 429:
      return error.retryAfter
        ? `Wait ${error.retryAfter} s, then try again.`
        : "Wait a moment, then try again.";
    default:
      return `Try again later; if it keeps failing, give the admin the request id ${error.requestId ?? "(none)"}.`;
  }
}

function showError(error) {
  if (error?.name === "AbortError") return;
  const known = error instanceof ApiError;
  $("notice-message").textContent = known
    ? `${error.message} (${error.error}${error.status ? `, HTTP ${error.status}` : ""})`
    : String(error?.message ?? error);
  $("notice-advice").textContent = `What to do: ${known ? advice(error) : "reload the page and try again."}`;
  $("notice").hidden = false;
  if (known && error.status === 401 && state.me) signOut();
}

function clearError() {
  $("notice").hidden = true;
}

function note(text) {
  $("progress-note").textContent = text;
}

// ---- sign in -------------------------------------------------------------------------------------------

async function signIn(key) {
  state.key = key;
  const me = await api("/api/v1/me");
  state.me = me.data;
  sessionStorage.setItem(KEY_STORAGE, key);
  const name =
    state.me.name && state.me.name !== state.me.id ? `${state.me.name} (${state.me.id})` : state.me.id;
  $("who").textContent = `Signed in as ${name}`;
  showCredits(state.me.credits);
  $("sign-in").hidden = true;
  $("app").hidden = false;
  $("sign-out").hidden = false;
  await loadModels();
  await refresh();
}

function signOut() {
  sessionStorage.removeItem(KEY_STORAGE);
  state.key = "";
  state.me = null;
  for (const controller of state.streams.values()) controller.abort();
  state.streams.clear();
  state.noStream.clear();
  state.tasks.clear();
  state.sent.clear();
  for (const card of state.cards.values()) card.remove();
  state.cards.clear();
  for (const url of state.blobs.values()) URL.revokeObjectURL(url);
  state.blobs.clear();
  clearTimeout(state.pollTimer);
  $("who").textContent = "";
  $("credits").textContent = "";
  $("tasks-empty").hidden = false;
  $("app").hidden = true;
  $("sign-out").hidden = true;
  $("sign-in").hidden = false;
  $("api-key").value = "";
  $("api-key").focus();
}

function showCredits(credits) {
  $("credits").textContent = state.me?.admin ? "Admin (never charged)" : `Credits: ${credits}`;
}

async function refreshCredits() {
  const answer = await api("/api/credits");
  showCredits(answer.credits);
}

// ---- models and forms ----------------------------------------------------------------------------------

function fillSelect(select, values, chosen) {
  select.replaceChildren();
  for (const value of values) {
    const option = document.createElement("option");
    option.value = value.value ?? value;
    option.textContent = value.label ?? value;
    if (option.value === chosen) option.selected = true;
    select.append(option);
  }
}

async function loadModels() {
  const { data } = await api("/api/v1/models");
  const of = (kind) => data.filter((model) => model.kinds.includes(kind));
  const options = (models, kind) => {
    const first = models.find((model) => model.default_for.includes(kind)) ?? models[0];
    return {
      list: models.map((model) => ({ value: model.id, label: model.title })),
      chosen: first?.id,
    };
  };
  const image = options(of("generate"), "generate");
  fillSelect($("generate-model"), image.list, image.chosen);
  const video = options(of("video"), "video");
  fillSelect($("video-model"), video.list, video.chosen);
  for (const select of document.querySelectorAll("select.ratio")) {
    fillSelect(select, RATIOS, select.id === "video-ratio" ? "16:9" : "1:1");
  }
}

function showMode(mode) {
  for (const form of document.querySelectorAll("form[data-mode]")) form.hidden = form.dataset.mode !== mode;
}

/** Runs a form's action with its button disabled; errors go to the notice. */
async function submitting(form, action) {
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  clearError();
  state.busy++;
  schedulePoll(300);
  try {
    await action();
  } catch (error) {
    showError(error);
  } finally {
    state.busy--;
    button.disabled = false;
    await refresh().catch(showError);
  }
}

const value = (id) => $(id).value.trim();

async function createTask(route, body) {
  const answer = await api(route, { method: "POST", body });
  state.sent.set(answer.data.task_id, { route, body });
  return answer.data.task_id;
}

function onGenerate(event) {
  event.preventDefault();
  const form = event.currentTarget;
  submitting(form, async () => {
    const body = {
      prompt: value("generate-prompt"),
      model: value("generate-model"),
      ratio: value("generate-ratio"),
    };
    const count = Number(value("generate-count") || "1");
    if (count > 1) body.n = count;
    const id = await createTask("/api/v1/ai/image/task", body);
    note(`Task ${id} created.`);
  });
}

function onVideo(event) {
  event.preventDefault();
  submitting(event.currentTarget, async () => {
    const id = await createTask("/api/v1/ai/video/task", {
      prompt: value("video-prompt"),
      model: value("video-model"),
      ratio: value("video-ratio"),
      duration: Number(value("video-duration")),
    });
    note(`Video task ${id} created.`);
  });
}

async function upload(file) {
  clearError();
  $("transform-file-status").textContent = `Uploading ${file.name}…`;
  const form = new FormData();
  form.append("image", file, file.name);
  try {
    const answer = await api("/api/upload-image", { method: "POST", form });
    state.uploaded = answer.data_url;
    const preview = $("transform-preview");
    preview.src = answer.data_url;
    preview.hidden = false;
    $("transform-file-status").textContent =
      `Uploaded ${file.name}: ${answer.type}, ${Math.round(answer.size / 1024)} KB${answer.width ? `, ${answer.width}×${answer.height}` : ""}.`;
  } catch (error) {
    state.uploaded = null;
    $("transform-file-status").textContent = "The upload was refused.";
    showError(error);
  }
}

function onTransform(event) {
  event.preventDefault();
  submitting(event.currentTarget, async () => {
    if (!state.uploaded) throw new ApiError(400, "invalid request", "input_image: upload an image first");
    const body = {
      prompt: value("transform-prompt"),
      input_image: state.uploaded,
      image_prompt_strength: Number($("transform-strength").value),
    };
    note("Transforming… (the service answers when the image is ready)");
    try {
      const answer = await api("/api/image-to-image", { method: "POST", body });
      state.sent.set(answer.request_id, { route: "/api/image-to-image", body });
      note(`Image-to-image ${answer.request_id} done.`);
    } catch (error) {
      if (error instanceof ApiError) note("");
      throw error;
    }
  });
}

function onBatch(event) {
  event.preventDefault();
  submitting(event.currentTarget, async () => {
    const repeat = document.querySelector("input[name=batch-kind]:checked").value === "repeat";
    const body = { aspect_ratio: value("batch-ratio") };
    if (repeat) {
      body.prompt = value("batch-prompt");
      body.count = Number(value("batch-count") || "1");
    } else {
      body.prompts = $("batch-prompts")
        .value.split("\n")
        .map((line) => line.trim())
        .filter(Boolean);
    }
    const answer = await api("/api/batch/generate", { method: "POST", body });
    showCredits(answer.credits_remaining);
    note(`Batch ${answer.batch_id}: ${answer.total_tasks} tasks, ${answer.credits_deducted} credits.`);
  });
}

// ---- the task list -------------------------------------------------------------------------------------

async function refresh() {
  if (!state.me) return;
  const answer = await api(`/api/v1/tasks/user/${encodeURIComponent(state.me.id)}?limit=50`);
  for (const task of answer.data.tasks) update(task);
  await refreshCredits();
  watch();
}

function kindWord(task) {
  if (task.kind === "video") return "video";
  if (task.kind === "compose") return "image to image";
  return task.batch_id ? "batch image" : "image";
}

function statusWord(task) {
  if (task.status === "pending") return "queued";
  if (task.status === "processing") return "generating";
  return task.status;
}

/** Newest first; the tasks of one batch (created together) in their batch order. */
function newerFirst(a, b) {
  if (a.batch_id && a.batch_id === b.batch_id)
    return a.task_id.localeCompare(b.task_id, "en", { numeric: true });
  if (a.created_at !== b.created_at) return a.created_at > b.created_at ? -1 : 1;
  return b.task_id.localeCompare(a.task_id, "en", { numeric: true });
}

/** Puts the card of a new task in its place in the list. */
function place(card, task) {
  const list = $("tasks");
  for (const other of list.children) {
    const otherTask = state.tasks.get(other.dataset.id);
    if (otherTask && newerFirst(task, otherTask) < 0) {
      list.insertBefore(card, other);
      return;
    }
  }
  list.append(card);
}

function newCard(task) {
  const card = $("task-template").content.firstElementChild.cloneNode(true);
  card.dataset.id = task.task_id;
  card.querySelector(".cancel").addEventListener("click", () => cancel(task.task_id));
  card.querySelector(".retry").addEventListener("click", () => retry(task.task_id));
  card.querySelector(".thumb-button").addEventListener("click", () => view(task.task_id));
  state.cards.set(task.task_id, card);
  return card;
}

/** Shows the latest record of a task (from the list, a stream or a poll). */
function update(task) {
  const previous = state.tasks.get(task.task_id);
  if (previous && previous.updated_at > task.updated_at) return;
  state.tasks.set(task.task_id, task);
  let card = state.cards.get(task.task_id);
  if (!card) {
    card = newCard(task);
    place(card, task);
  }
  $("tasks-empty").hidden = true;
  card.dataset.status = task.status;
  const progress = task.status === "completed" ? 100 : Math.max(0, Math.min(100, Number(task.progress) || 0));
  card.querySelector(".prompt").textContent = task.prompt;
  card.querySelector(".prompt").title = task.prompt;
  card.querySelector(".status").textContent = statusWord(task);
  card.querySelector(".detail").textContent =
    `· ${kindWord(task)} · ${new Date(task.created_at).toLocaleTimeString()}`;
  const bar = card.querySelector("progress");
  bar.value = progress;
  bar.setAttribute("aria-label", `Progress of “${task.prompt.slice(0, 60)}”`);
  card.querySelector(".percent").textContent = `${progress} %`;
  const error = card.querySelector(".error");
  error.textContent = task.error
    ? `${task.error.message} (code ${task.error.code}). Retry, or change the prompt and send it again.`
    : "";
  error.title = error.textContent;
  card.querySelector(".cancel").hidden = task.status !== "pending";
  card.querySelector(".retry").hidden = !(
    FINAL.has(task.status) &&
    task.status !== "completed" &&
    canRetry(task)
  );
  const thumbText = card.querySelector(".thumb-text");
  if (thumbText) thumbText.textContent = task.status === "completed" ? "loading…" : statusWord(task);
  if (task.status === "completed" && task.urls.length && !card.dataset.thumb) {
    card.dataset.thumb = "loading";
    showOutput(card, task).catch((error) => {
      card.dataset.thumb = "";
      showError(error);
    });
  }
}

/** Same-origin path of an output link (the service may name its public URL; the page asks its own origin). */
function localPath(url) {
  const parsed = new URL(url, location.href);
  return parsed.pathname + parsed.search;
}

async function blobUrl(url) {
  const path = localPath(url);
  let blob = state.blobs.get(path);
  if (!blob) {
    const response = await api(path, { raw: true });
    blob = URL.createObjectURL(await response.blob());
    state.blobs.set(path, blob);
  }
  return blob;
}

async function showOutput(card, task) {
  const first = task.urls[0];
  const blob = await blobUrl(first);
  const button = card.querySelector(".thumb-button");
  button.disabled = false;
  button.setAttribute("aria-label", `View full size: ${task.prompt.slice(0, 80)}`);
  if (task.kind === "video") {
    button.querySelector(".thumb-text").textContent = "▶ video";
  } else {
    const image = document.createElement("img");
    image.alt = "";
    image.src = blob;
    button.replaceChildren(image);
  }
  const link = card.querySelector(".download");
  link.href = blob;
  link.download = localPath(first).split("/").slice(-2).join("-").replaceAll(":", "_");
  link.setAttribute("aria-label", `Download: ${task.prompt.slice(0, 80)}`);
  link.hidden = false;
  card.dataset.thumb = "done";
}

async function view(id) {
  const task = state.tasks.get(id);
  if (!task?.urls.length) return;
  const blob = await blobUrl(task.urls[0]).catch(showError);
  if (!blob) return;
  const video = task.kind === "video";
  $("viewer-title").textContent = task.prompt;
  $("viewer-image").hidden = video;
  $("viewer-video").hidden = !video;
  if (video) $("viewer-video").src = blob;
  else {
    $("viewer-image").src = blob;
    $("viewer-image").alt = `Result of “${task.prompt.slice(0, 120)}”`;
  }
  $("viewer").showModal();
}

function canRetry(task) {
  return (
    Boolean(task.batch_id) ||
    state.sent.has(task.task_id) ||
    task.kind === "generate" ||
    task.kind === "video"
  );
}

async function cancel(id) {
  clearError();
  try {
    await api(`/api/v1/tasks/${encodeURIComponent(id)}`, { method: "DELETE" });
    note("Task cancelled; its credits are back.");
  } catch (error) {
    showError(error);
  }
  await refresh().catch(showError);
}

async function retry(id) {
  clearError();
  const task = state.tasks.get(id);
  try {
    if (task.batch_id) {
      const index = Number(id.slice(task.batch_id.length + 1));
      const answer = await api("/api/batch/process", {
        method: "POST",
        body: { batch_id: task.batch_id, task_index: index },
      });
      showCredits(answer.credits_remaining);
      state.tasks.delete(id);
      state.noStream.delete(id);
      note(`Task ${index + 1} of the batch queued again.`);
    } else {
      const sent = state.sent.get(id) ?? {
        route: task.kind === "video" ? "/api/v1/ai/video/task" : "/api/v1/ai/image/task",
        body: { prompt: task.prompt, model: task.model },
      };
      if (sent.route === "/api/image-to-image") {
        state.busy++;
        schedulePoll(300);
        try {
          const answer = await api(sent.route, { method: "POST", body: sent.body });
          state.sent.set(answer.request_id, sent);
        } finally {
          state.busy--;
        }
      } else {
        const newId = await createTask(sent.route, sent.body);
        note(`Sent again as task ${newId}.`);
      }
    }
  } catch (error) {
    showError(error);
  }
  await refresh().catch(showError);
}

// ---- live status: the service's server-sent events, polling as the fallback -----------------------------

function watch() {
  for (const [id, task] of state.tasks) {
    if (state.streams.size >= MAX_STREAMS) break;
    if (!FINAL.has(task.status) && !state.streams.has(id) && !state.noStream.has(id)) stream(id);
  }
  schedulePoll(POLL_MS);
}

/** Reads `GET /api/v1/tasks/:id/events` with fetch (EventSource cannot send the Authorization header). */
async function stream(id) {
  const controller = new AbortController();
  state.streams.set(id, controller);
  try {
    const response = await api(`/api/v1/tasks/${encodeURIComponent(id)}/events`, {
      signal: controller.signal,
      raw: true,
    });
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value: chunk, done } = await reader.read();
      if (done) break;
      buffer += chunk;
      let end = buffer.indexOf("\n\n");
      while (end >= 0) {
        const event = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = event
          .split("\n")
          .filter((line) => line.startsWith("data:"))
          .map((line) => line.slice(5).trimStart())
          .join("\n");
        if (data) update(JSON.parse(data));
        end = buffer.indexOf("\n\n");
      }
    }
  } catch (error) {
    if (error.name !== "AbortError") state.noStream.add(id);
  } finally {
    if (state.streams.get(id) === controller) state.streams.delete(id);
    if (state.me) watch();
  }
}

/** Polls the task list while a task is unfinished or a request is on its way. */
function schedulePoll(ms) {
  clearTimeout(state.pollTimer);
  const unfinished = [...state.tasks.values()].some((task) => !FINAL.has(task.status));
  if (!state.me || (!unfinished && state.busy === 0)) return;
  state.pollTimer = setTimeout(() => {
    refresh().catch((error) => {
      showError(error);
      schedulePoll(POLL_MS * 2);
    });
  }, ms);
}

// ---- wiring --------------------------------------------------------------------------------------------

function wire() {
  $("sign-in-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const key = $("api-key").value.trim();
    clearError();
    if (!key) {
      showError(new ApiError(400, "invalid request", "API key: is required"));
      return;
    }
    try {
      await signIn(key);
    } catch (error) {
      state.key = "";
      state.me = null;
      showError(error);
    }
  });
  $("sign-out").addEventListener("click", signOut);
  $("notice-close").addEventListener("click", clearError);
  $("refresh").addEventListener("click", () => refresh().catch(showError));
  for (const radio of document.querySelectorAll("input[name=mode]")) {
    radio.addEventListener("change", () => showMode(radio.value));
  }
  for (const radio of document.querySelectorAll("input[name=batch-kind]")) {
    radio.addEventListener("change", () => {
      $("batch-list").hidden = radio.value !== "list";
      $("batch-repeat").hidden = radio.value !== "repeat";
    });
  }
  $("generate-form").addEventListener("submit", onGenerate);
  $("video-form").addEventListener("submit", onVideo);
  $("transform-form").addEventListener("submit", onTransform);
  $("batch-form").addEventListener("submit", onBatch);
  $("transform-strength").addEventListener("input", (event) => {
    $("transform-strength-value").textContent = Number(event.target.value).toFixed(2);
  });
  $("transform-file").addEventListener("change", (event) => {
    const file = event.target.files?.[0];
    if (file) upload(file);
  });
  const zone = $("drop-zone");
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("dragging");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("dragging");
    const file = event.dataTransfer?.files?.[0];
    if (file) upload(file);
  });
  if (state.key) {
    signIn(state.key).catch((error) => {
      // A key the service no longer knows is dropped, so that a reload does not ask with it again.
      if (error instanceof ApiError && error.status === 401) sessionStorage.removeItem(KEY_STORAGE);
      state.key = "";
      state.me = null;
      showError(error);
    });
  }
}

wire();
