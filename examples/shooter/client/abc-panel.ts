// The A/B/C demo on the page: what is about to happen, the seven steps lighting up as the session really
// goes through them (AbcSteps), and the packet timeline of just those packets and messages underneath.
import { PacketTimelineView, type LinkConditioner, type PacketTimeline } from '@volley/devtools';
import type { Room } from '@volley/client';
import type { Arena } from '../game/state.js';
import { AbcSteps, STEP_TITLES, type AbcStep, type StepNumber } from './abc-steps.js';

const INTRO =
  'A, B and C fire one after another, 200 ms apart. Each shot is a message the server sends to your browser on a ' +
  'reliable, ordered channel: every shot must arrive, exactly once, in the order it was fired. The link between ' +
  "you and the server is slowed to 150 ms each way, and the packet carrying B's shot is dropped on purpose. " +
  'Watch what the protocol does about it:';

export class AbcPanel {
  /** The steps of the current play (undefined before the first). */
  current: AbcSteps | undefined;
  private readonly list: HTMLOListElement;
  private readonly status: HTMLParagraphElement;
  private readonly view: PacketTimelineView;
  private readonly button: HTMLButtonElement;
  private stops: (() => void)[] = [];
  private origin = 0;

  constructor(
    parent: HTMLElement,
    private readonly room: Room<Arena>,
    private readonly timeline: PacketTimeline,
    private readonly conditioner: LinkConditioner,
    private readonly reliableTransport: () => string | undefined,
  ) {
    const title = document.createElement('h2');
    title.textContent = 'The A/B/C demo: one lost packet, live';
    const intro = document.createElement('p');
    intro.textContent = INTRO;
    this.list = document.createElement('ol');
    this.list.className = 'abc-steps';
    this.status = document.createElement('p');
    this.status.className = 'abc-status';
    this.button = document.createElement('button');
    this.button.textContent = 'play again';
    this.button.addEventListener('click', () => this.play());
    const timelineTitle = document.createElement('h3');
    timelineTitle.textContent = 'Packet timeline (these three shots only; times from the first line)';
    parent.append(title, intro, this.list, this.status, this.button, timelineTitle);
    this.view = new PacketTimelineView(timeline, { parent, lines: 24, filter: (e) => this.current?.relevant(e) ?? false });
    this.render();
  }

  /** Plays the demo (again): arms the drop of B's shot, then asks the server to run the script. */
  play(): boolean {
    const transport = this.reliableTransport();
    if (transport) {
      this.status.textContent =
        `This session runs over ${transport}, which never loses a packet (TCP below it resends), so there is nothing ` +
        'to drop. The demo needs WebRTC: open the page with ?transport=webrtc.';
      return false;
    }
    const ids = this.shooters();
    if (!ids) {
      this.status.textContent = 'Waiting for A, B and C to join…';
      return false;
    }
    for (const stop of this.stops.splice(0)) stop();
    this.view.clear();
    this.origin = performance.now();
    const steps = new AbcSteps(
      ids,
      () => this.timeline.held,
      () => this.render(),
    );
    this.current = steps;
    this.stops.push(
      this.conditioner.observe((e) => steps.link(e)),
      this.timeline.onEntry((e) => steps.entry(e)),
    );
    void this.conditioner.dropNext('shot', { direction: 'down', where: (v) => (v as { shooter?: unknown }).shooter === ids.B });
    this.room.send('abc');
    this.status.textContent = 'Playing…';
    this.render();
    return true;
  }

  private shooters(): { A: string; B: string; C: string } | undefined {
    const find = (letter: string) => [...this.room.state.players].find(([, p]) => p.bot && p.name.startsWith(letter))?.[0];
    const [A, B, C] = [find('A'), find('B'), find('C')];
    return A && B && C ? { A, B, C } : undefined;
  }

  private render(): void {
    const steps = this.current?.steps;
    const items = ([1, 2, 3, 4, 5, 6, 7] as StepNumber[]).map((n) => {
      const step: AbcStep | undefined = steps?.get(n);
      const li = document.createElement('li');
      li.dataset.step = String(n);
      li.className = step ? 'done' : 'waiting';
      const head = document.createElement('b');
      head.textContent = `${n}. ${STEP_TITLES[n]}`;
      const when = document.createElement('span');
      when.className = 'when';
      when.textContent = step ? `  +${Math.max(0, step.t - this.origin).toFixed(0)} ms` : '';
      const text = document.createElement('div');
      text.textContent = step?.text ?? '…';
      li.append(head, when, text);
      return li;
    });
    this.list.replaceChildren(...items);
    if (this.current?.done)
      this.status.textContent = 'All seven steps happened. Play again to see it once more (each run is real: the numbers change).';
  }
}
