/**
 * A terminal screen of a given width that interprets what a program wrote to it: printable characters,
 * `\r`, `\n` (as a TTY turns it into CR LF), and the CSI sequences Node's readline and cli-progress emit
 * (cursor moves, clear line / to the right / below, line wrapping on and off). `rows()` is what a user
 * would see once the writes are done, so a test can assert on the picture instead of the bytes.
 */
export class Screen {
  readonly #width: number;
  readonly #lines: string[][] = [[]];
  #x = 0;
  #y = 0;
  #wrap = true;
  #saved = { x: 0, y: 0 };

  constructor(width: number) {
    this.#width = width;
  }

  write(text: string): void {
    let i = 0;
    while (i < text.length) {
      const char = text[i] as string;
      if (char === "\u001b") {
        i = this.#escape(text, i);
        continue;
      }
      if (char === "\r") this.#x = 0;
      else if (char === "\n") this.#move(0, 1, true);
      else this.#print(char);
      i++;
    }
  }

  /** The visible rows, trailing spaces and trailing empty rows removed. */
  rows(): string[] {
    const rows = this.#lines.map((line) => line.join("").trimEnd());
    while (rows.length > 0 && rows[rows.length - 1] === "") rows.pop();
    return rows;
  }

  #line(y: number): string[] {
    while (this.#lines.length <= y) this.#lines.push([]);
    return this.#lines[y] as string[];
  }

  #print(char: string): void {
    if (this.#x >= this.#width) {
      if (this.#wrap) this.#move(0, 1, true);
      else this.#x = this.#width - 1;
    }
    const line = this.#line(this.#y);
    while (line.length < this.#x) line.push(" ");
    line[this.#x] = char;
    this.#x++;
  }

  #move(dx: number, dy: number, toStart = false): void {
    this.#x = toStart ? 0 : Math.min(this.#width - 1, Math.max(0, this.#x + dx));
    this.#y = Math.max(0, this.#y + dy);
    this.#line(this.#y);
  }

  #escape(text: string, start: number): number {
    const next = text[start + 1];
    if (next === "7") {
      this.#saved = { x: this.#x, y: this.#y };
      return start + 2;
    }
    if (next === "8") {
      this.#x = this.#saved.x;
      this.#y = this.#saved.y;
      return start + 2;
    }
    if (next !== "[") return start + 1;
    const match = /^\[([?]?)([0-9;]*)([A-Za-z])/.exec(text.slice(start + 1));
    if (!match) return start + 1;
    const [whole, privateMode, params, command] = match as unknown as [string, string, string, string];
    const numbers = params === "" ? [] : params.split(";").map(Number);
    const n = numbers[0] ?? 0;
    const line = this.#line(this.#y);
    if (privateMode === "?") {
      if (n === 7) this.#wrap = command === "h";
    } else if (command === "A") this.#move(0, -(n || 1));
    else if (command === "B") this.#move(0, n || 1);
    else if (command === "C") this.#move(n || 1, 0);
    else if (command === "D") this.#move(-(n || 1), 0);
    else if (command === "G") this.#x = Math.max(0, (n || 1) - 1);
    else if (command === "H") {
      this.#y = Math.max(0, (numbers[0] || 1) - 1);
      this.#x = Math.max(0, (numbers[1] || 1) - 1);
    } else if (command === "K") {
      if (n === 0) line.splice(this.#x);
      else if (n === 1) for (let x = 0; x <= this.#x && x < line.length; x++) line[x] = " ";
      else line.length = 0;
    } else if (command === "J" && n === 0) {
      line.splice(this.#x);
      this.#lines.splice(this.#y + 1);
    }
    return start + 1 + whole.length;
  }
}
