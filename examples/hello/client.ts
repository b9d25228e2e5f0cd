// The browser side: connect, send, receive, show the lag.
import { connect } from '@volley/client';

const client = await connect(location.origin); // on the first of WebRTC/WebSocket to answer, then WebRTC
const form = document.querySelector('form')!;
const input = form.querySelector('input')!;
const log = document.querySelector('#log')!;

client.onMessage('chat', (text) => log.append(Object.assign(document.createElement('li'), { textContent: String(text) })));
form.addEventListener('submit', (event) => {
  event.preventDefault();
  client.send('chat', input.value);
  input.value = '';
});
setInterval(() => (document.querySelector('#status')!.textContent = `${client.transport}, RTT ${client.rtt.toFixed(1)} ms`), 500);
