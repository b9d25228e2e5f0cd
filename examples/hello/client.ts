// The page: join the chat room (or take your seat back after a reload), show its state, send lines.
import { connect, type TransportKind } from '@volley/client';
import { Chat } from './state.js';

const only = new URLSearchParams(location.search).get('transport') as TransportKind | null; // e.g. ?transport=polling
const client = await connect(location.origin, only ? { transports: [only] } : {}); // default: WebRTC or WebSocket, first to answer
const seat = sessionStorage.getItem('seat');
const room = await (seat ? client.reconnect(seat, Chat) : Promise.reject(new Error('no seat'))).catch(() =>
  client.joinOrCreate('chat', {}, Chat),
);
sessionStorage.setItem('seat', room.reconnectionToken);

const form = document.querySelector('form')!;
const input = form.querySelector('input')!;
const render = (chat: typeof room.state) => {
  const li = (text: string) => Object.assign(document.createElement('li'), { textContent: text });
  document.querySelector('#log')!.replaceChildren(...chat.lines.map((l) => li(`${l.who}: ${l.text}`)));
  const me = chat.people.get(room.sessionId);
  document.querySelector('#me')!.textContent = `you are ${me?.name}, ${me?.said} said, ${chat.people.size} here`;
};
render(room.state);
room.onStateChange(render);
form.addEventListener('submit', (event) => {
  event.preventDefault();
  room.send('say', input.value);
  input.value = '';
});
setInterval(() => (document.querySelector('#status')!.textContent = `${client.transport}, RTT ${client.rtt.toFixed(1)} ms`), 500);
