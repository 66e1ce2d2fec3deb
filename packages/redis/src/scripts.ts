import { Headers } from '@mailroom/core';
import { luaScript } from './connection';
import { Field } from './codec';

/**
 * Reclaims entries of dead consumers for `consumer`: XAUTOCLAIM what has been idle at least
 * minIdle, then reads each claimed entry's delivery count. With maxDeliveries > 0, an entry
 * delivered more often than that is instead moved to the DLQ stream (its fields plus dlq:*
 * fields) and acknowledged, in the same atomic step.
 * KEYS: stream, dlq. ARGV: group, consumer, minIdle, cursor, count, maxDeliveries, nowMs, releasedConsumer.
 * Returns { nextCursor, { {id, fields, deliveries}, ... }, deadLettered }.
 */
export const RECLAIM = luaScript(`
local claimed = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4], 'COUNT', ARGV[5])
local max = tonumber(ARGV[6])
local out = {}
local dead = 0
for _, e in ipairs(claimed[2]) do
  local id = e[1]
  local fields = e[2]
  if fields then
    local p = redis.call('XPENDING', KEYS[1], ARGV[1], id, id, 1)
    local count = 1
    if p[1] then count = p[1][4] end
    if max > 0 and count > max then
      local add = {KEYS[2], '*'}
      for _, f in ipairs(fields) do add[#add + 1] = f end
      local extra = {'${Field.dlqOrigin}', KEYS[1], '${Field.dlqId}', id, '${Field.dlqGroup}', ARGV[1],
        '${Field.dlqDeliveries}', tostring(count - 1),
        '${Field.dlqReason}', 'not acknowledged after ' .. tostring(count - 1) .. ' deliveries', '${Field.dlqAt}', ARGV[7]}
      for _, f in ipairs(extra) do add[#add + 1] = f end
      redis.call('XADD', unpack(add))
      redis.call('XACK', KEYS[1], ARGV[1], id)
      dead = dead + 1
    else
      out[#out + 1] = {id, fields, count}
    end
  end
end
if #claimed[2] > 0 then
  local left = redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[8])
  if #left == 0 then redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[8]) end
end
return {claimed[1], out, dead}
`);

/**
 * A closing consumer hands every entry it still holds to the group's "released" pseudo
 * consumer, marked idle for a long time, so the next poll of any consumer reclaims them at
 * once. JUSTID keeps the delivery counts as they are. Then the consumer itself is deleted,
 * which is safe because its pending list is now empty (DELCONSUMER would otherwise drop entries).
 * KEYS: stream. ARGV: group, consumer, releasedConsumer, idleMs. Returns how many were released.
 */
export const RELEASE = luaScript(`
local released = 0
local start = '-'
while true do
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], start, '+', 500, ARGV[2])
  if #p == 0 then break end
  start = '(' .. p[#p][1]
  local args = {'XCLAIM', KEYS[1], ARGV[1], ARGV[3], 0}
  for _, e in ipairs(p) do args[#args + 1] = e[1] end
  args[#args + 1] = 'IDLE'
  args[#args + 1] = ARGV[4]
  args[#args + 1] = 'JUSTID'
  redis.call(unpack(args))
  released = released + #p
end
redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
return released
`);

/**
 * A live consumer refreshes the idle time of the entries it still holds so they are not
 * reclaimed as a dead consumer's, but only those it still owns (another consumer may have
 * reclaimed one while this process stalled). KEYS: stream. ARGV: group, consumer, ids...
 * Returns how many it still owns.
 */
export const HEARTBEAT = luaScript(`
local mine = {}
for i = 3, #ARGV do
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
  if p[1] and p[1][2] == ARGV[2] then mine[#mine + 1] = ARGV[i] end
end
if #mine > 0 then
  local args = {'XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0}
  for _, id in ipairs(mine) do args[#args + 1] = id end
  args[#args + 1] = 'JUSTID'
  redis.call(unpack(args))
end
return #mine
`);

/**
 * Moves DLQ entries to a target stream, each move atomic and the batch atomic: the entry is
 * copied (all its fields, plus the redrive headers) with XADD, then XDEL'd from the source.
 * An id no longer in the source is skipped, so running a batch twice moves nothing twice.
 * KEYS: source, target. ARGV: redrivenFrom, taskId, ids... Returns the moved ids.
 */
export const REDRIVE = luaScript(`
local t = redis.call('TYPE', KEYS[2])['ok']
if t ~= 'stream' and t ~= 'none' then return redis.error_reply('WRONGTYPE target ' .. KEYS[2] .. ' is not a stream') end
local moved = {}
for i = 3, #ARGV do
  local id = ARGV[i]
  local r = redis.call('XRANGE', KEYS[1], id, id)
  if r[1] then
    local add = {KEYS[2], '*'}
    for _, f in ipairs(r[1][2]) do add[#add + 1] = f end
    add[#add + 1] = '${Field.headerPrefix}${Headers.redrivenFrom}'
    add[#add + 1] = ARGV[1]
    add[#add + 1] = '${Field.headerPrefix}${Headers.redriveTask}'
    add[#add + 1] = ARGV[2]
    redis.call('XADD', unpack(add))
    redis.call('XDEL', KEYS[1], id)
    moved[#moved + 1] = id
  end
end
return moved
`);
