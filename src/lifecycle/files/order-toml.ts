/**
 * order.toml (digest §3.1, platform spec "order.toml"): `[[order]]` groups of buildpacks and optional
 * `[[order-extensions]]` groups of image extensions (always optional; never nested orders).
 */
import { Fields } from './fields.js';
import { orderToToml, readOrder, type OrderGroup } from './module-ref.js';
import { parseToml, stringifyToml } from './toml.js';

export interface OrderToml {
  order: OrderGroup[];
  orderExtensions: OrderGroup[];
}

const HINT = 'fix order.toml; each [[order]] group lists { id, version, optional } entries';

export function parseOrderToml(text: string, file = 'order.toml'): OrderToml {
  const root = new Fields(file, parseToml(text, file), '', HINT);
  return { order: readOrder(root, 'order'), orderExtensions: readOrder(root, 'order-extensions') };
}

export function serializeOrderToml(o: OrderToml): string {
  return stringifyToml({
    order: orderToToml(o.order),
    'order-extensions': o.orderExtensions.length > 0 ? orderToToml(o.orderExtensions) : undefined,
  });
}
