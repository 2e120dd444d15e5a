import { argsKey, type LoaderRegistry } from '../shared/loader-registry.js';
import type { ScheduleExceptionModel, WeeklyHoursModel } from './schedule.model.js';
import { findExceptionsByPartnerIds, findWeeklyHoursByPartnerIds, type DateRangeArgs } from './schedules.repository.js';

export function weeklyHoursByPartnerId(loaders: LoaderRegistry) {
  return loaders.get<string, WeeklyHoursModel[]>('WeeklyHoursByPartnerId', async (partnerIds) => {
    const groups = await findWeeklyHoursByPartnerIds(await loaders.read(), partnerIds);
    return partnerIds.map((id) => groups.get(id) ?? []);
  });
}

export function exceptionsByPartnerId(loaders: LoaderRegistry, args: DateRangeArgs) {
  return loaders.get<string, ScheduleExceptionModel[]>(`ExceptionsByPartnerId:${argsKey(args)}`, async (partnerIds) => {
    const groups = await findExceptionsByPartnerIds(await loaders.read(), partnerIds, args);
    return partnerIds.map((id) => groups.get(id) ?? []);
  });
}
