// Live events for the logged-in user: new notifications appear without reloading.
const badge = document.getElementById("live-badge");
let unread = 0;

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/ws`);
  socket.onmessage = (event) => {
    const message = JSON.parse(event.data);
    document.dispatchEvent(new CustomEvent(`telesante:${message.type}`, { detail: message }));
    if (message.type !== "notification") return;
    unread += 1;
    badge.textContent = `${unread} nouvelle(s) notification(s)`;
    const list = document.getElementById("notifications");
    if (list) {
      const item = document.createElement("li");
      item.textContent = message.title;
      list.prepend(item);
    }
  };
  socket.onclose = () => setTimeout(connect, 5000);
}

connect();
