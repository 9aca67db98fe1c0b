import { Router } from 'express';
import dayjs from 'dayjs';
import sortBy from 'lodash/sortBy';
import pino from 'pino';
import { z } from 'zod';

const Item = z.object({ name: z.string().min(1), quantity: z.number().int().nonnegative() });
type Item = z.infer<typeof Item> & { created: string };

export function itemsRouter(): Router {
  const log = pino();
  const items: Item[] = [];
  const router = Router();
  router.get('/', (_req, res) => {
    res.json(sortBy(items, (i) => i.name));
  });
  router.post('/', (req, res) => {
    const parsed = Item.safeParse(req.body);
    if (!parsed.success) {
      res.status(400).json(parsed.error.issues);
      return;
    }
    const item = { ...parsed.data, created: dayjs().toISOString() };
    items.push(item);
    log.info({ item }, 'added');
    res.status(201).json(item);
  });
  return router;
}
