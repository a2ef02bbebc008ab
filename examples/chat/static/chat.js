// The chat page: join a room under a nickname, send messages (a tick once the server
// acknowledges them), see who is here and who is typing.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const socket = io();
  let me = null;
  let typingTimer = null;
  let typingSent = false;
  const typists = new Map();

  function setStatus(state, text) {
    $("status").dataset.state = state;
    $("status").textContent = text;
  }

  function addLine(node) {
    $("messages").appendChild(node);
    $("messages").scrollTop = $("messages").scrollHeight;
  }

  function system(text) {
    const li = document.createElement("li");
    li.className = "system";
    li.textContent = text;
    addLine(li);
  }

  function showMembers(list) {
    $("members").replaceChildren(
      ...list.map((nick) => {
        const li = document.createElement("li");
        li.textContent = nick;
        return li;
      })
    );
  }

  function showTyping() {
    const names = [...typists.keys()];
    $("typing").textContent =
      names.length === 0 ? "" : names.join(", ") + (names.length === 1 ? " is typing…" : " are typing…");
  }

  function join(room, nick) {
    socket.emit("join", { room, nick }, (reply) => {
      if (!reply.ok) {
        $("join-error").textContent = reply.error;
        return;
      }
      $("join-error").textContent = "";
      me = { room, nick };
      $("room-title").textContent = "#" + room;
      $("messages").replaceChildren();
      typists.clear();
      showTyping();
      showMembers(reply.members);
      $("text").disabled = false;
      $("send").querySelector("button").disabled = false;
      $("text").focus();
    });
  }

  $("join").addEventListener("submit", (e) => {
    e.preventDefault();
    join($("room").value.trim(), $("nick").value.trim());
  });

  $("send").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = $("text").value;
    if (!text.trim() || !me) return;
    $("text").value = "";
    stopTyping();
    const li = document.createElement("li");
    li.className = "mine pending";
    const nick = document.createElement("span");
    nick.className = "nick";
    nick.textContent = me.nick;
    const body = document.createElement("span");
    body.className = "text";
    body.textContent = text;
    const tick = document.createElement("span");
    tick.className = "tick";
    tick.textContent = "…";
    li.append(nick, body, tick);
    addLine(li);
    socket.timeout(5000).emit("chat", { text }, (err, reply) => {
      if (err || reply.ok === false) {
        tick.textContent = "✗";
        tick.title = err ? "not delivered" : reply.error;
        return;
      }
      li.classList.remove("pending");
      li.dataset.id = reply.id;
      tick.textContent = "✓";
      tick.classList.add("delivered");
    });
  });

  function stopTyping() {
    clearTimeout(typingTimer);
    if (typingSent) {
      socket.emit("typing", false);
      typingSent = false;
    }
  }

  $("text").addEventListener("input", () => {
    if (!typingSent) {
      socket.emit("typing", true);
      typingSent = true;
    }
    clearTimeout(typingTimer);
    typingTimer = setTimeout(stopTyping, 2000);
  });

  socket.on("chat", (msg) => {
    // Our own messages are already on the page, ticked by their ack.
    if (msg.id.startsWith(socket.id + "-")) return;
    const li = document.createElement("li");
    li.className = "theirs";
    li.dataset.id = msg.id;
    const nick = document.createElement("span");
    nick.className = "nick";
    nick.textContent = msg.nick;
    const body = document.createElement("span");
    body.className = "text";
    body.textContent = msg.text;
    li.append(nick, body);
    addLine(li);
    typists.delete(msg.nick);
    showTyping();
  });

  socket.on("typing", ({ nick, typing }) => {
    if (typing) typists.set(nick, true);
    else typists.delete(nick);
    showTyping();
  });

  socket.on("presence", ({ room, members, joined, left }) => {
    if (!me || room !== me.room) return;
    showMembers(members);
    if (joined && joined !== me.nick) system(joined + " joined");
    if (left) {
      system(left + " left");
      typists.delete(left);
      showTyping();
    }
  });

  socket.on("connect", () => {
    setStatus("connected", "connected");
    if (me) join(me.room, me.nick);
  });
  socket.on("disconnect", () => setStatus("disconnected", "disconnected"));
})();
