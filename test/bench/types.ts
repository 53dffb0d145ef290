/** One figure a benchmark prints. `ratio` compares the project with its baseline measured in the same run. */
export interface BenchFigure {
  suite: string;
  name: string;
  value: number;
  unit: string;
  baseline?: { name: string; value: number };
  ratio?: number;
  target?: string;
  met?: boolean;
  note?: string;
}

export interface BenchOptions {
  /** Few iterations: the smoke mode that runs inside `npm test`. */
  quick: boolean;
}

export type Bench = (options: BenchOptions) => Promise<BenchFigure[]>;
