// The chat room's state, shared by the server and the page: who is here, and the last 50 lines.
import { schema, t } from '@colyseus/schema';

export const Person = schema({ name: t.string(), said: t.uint16() }, 'Person');
export const Line = schema({ who: t.string(), text: t.string() }, 'Line');
export const Chat = schema({ people: t.map(Person), lines: t.array(Line) }, 'Chat');
