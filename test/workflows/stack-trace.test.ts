/**
 * Issue #14, the worker's SDK patch (patches/@temporalio+worker+1.24.0.patch):
 * the promise hook captures a stack per workflow promise and formats it only
 * when a stack-trace query reads it. The Temporal UI's "Stack Trace" tab (query
 * `__stack_trace`) and the enhanced one (`__enhanced_stack_trace`) must still
 * show where a waiting task waits, in the workflow's own source (source-mapped),
 * with the promises Promise.race/all create inside themselves folded into the
 * aggregate as before.
 */
import { expect, it } from 'vitest';
import { useWorkflowStack } from '../helpers/harness.js';
import { act } from '../helpers/tasks.js';

const { withTask } = useWorkflowStack();

interface EnhancedStackTrace {
  sdk: { name: string };
  stacks: { locations: { file_path?: string; function_name?: string; line?: number }[] }[];
}

it('#14: a waiting task answers the stack-trace queries with source-mapped stacks of where it waits', () =>
  withTask({ scriptRequired: false }, async (h) => {
    await act(h).accept();
    const formatted = await h.query<string>('__stack_trace');
    const stacks = formatted.split('\n\n');
    // the lifecycle's wait for the next timer or change (condition(moved, …)), in workflows/task.ts, not the bundle
    expect(formatted).toMatch(/at condition \(.*@temporalio\/workflow\/src\/workflow\.ts:\d+:\d+\)\n\s+at moved \(.*workflows\/task\.ts:\d+:\d+\)/);
    // the queues' single consumers (projection, effects, messages) wait in Queue.drain
    expect(formatted).toMatch(/at Queue\.drain \(.*workflows\/task\.ts:\d+:\d+\)/);
    expect(formatted).toMatch(/at runAll \(.*workflows\/task\.ts:\d+:\d+\)/);
    // no stack of a promise an aggregate (the timed condition's race) created inside itself
    for (const stack of stacks) expect(stack).not.toMatch(/^\s+at Promise\.then \(<anonymous>\)\n\s+at (Function|Promise)\.(race|all|allSettled|any)/);

    const enhanced = await h.query<EnhancedStackTrace>('__enhanced_stack_trace');
    expect(enhanced.sdk.name).toBe('typescript');
    expect(enhanced.stacks).toHaveLength(stacks.length);
    const inTask = enhanced.stacks.flatMap((s) => s.locations).filter((l) => l.file_path?.endsWith('workflows/task.ts'));
    expect(inTask.length).toBeGreaterThan(0);
    expect(inTask.every((l) => typeof l.line === 'number' && l.line > 0)).toBe(true);
    expect(inTask.map((l) => l.function_name)).toEqual(expect.arrayContaining(['moved', 'runAll']));

    // asked again, the same answer (each promise's stack is formatted once, then kept)
    expect(await h.query<string>('__stack_trace')).toBe(formatted);
  }));
