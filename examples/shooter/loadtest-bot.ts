// A `volley loadtest` script for the shooter (`--script examples/shooter/loadtest-bot.ts`, under tsx): each
// bot plays as the page does — its controls through room.input() 60 times a second (walking, turning), and a
// shot a little more often than the fire cooldown allows, with the server's clock as its view time.
import type { BotScript } from 'volley';
import { FIRE_COOLDOWN_MS, TICK_MS } from './game/arena.js';
import { Controls } from './game/state.js';

const shooterBot: BotScript = (bot) => {
  const input = bot.room.input(Controls, { historySize: 3 });
  let angle = bot.random() * 2 * Math.PI;
  let dx = 1;
  let dy = 0;
  bot.every(TICK_MS, () => {
    angle += (bot.random() - 0.5) * 0.2;
    if (bot.random() < 0.02) [dx, dy] = [Math.round(bot.random() * 2 - 1), Math.round(bot.random() * 2 - 1)];
    input.value.dx = dx;
    input.value.dy = dy;
    input.value.angle = angle;
    input.send();
  });
  bot.every(FIRE_COOLDOWN_MS * 1.5, () => bot.room.send('shoot', { angle, viewTime: bot.room.serverTime() }));
};

export default shooterBot;
