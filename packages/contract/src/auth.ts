import { z } from 'zod';
import { text } from './common.ts';

export const Role = z.enum(['customer', 'admin']).meta({ id: 'Role' });
export type Role = z.infer<typeof Role>;

export const Email = z
  .string()
  .trim()
  .max(254)
  .pipe(z.email())
  .transform((email) => email.toLowerCase());

export const User = z
  .object({
    id: z.int(),
    email: z.string(),
    name: z.string(),
    role: Role,
  })
  .meta({ id: 'User' });
export type User = z.infer<typeof User>;

export const RegisterInput = z
  .strictObject({
    email: Email,
    password: z.string().min(8).max(128),
    name: text().trim().min(1).max(100),
  })
  .meta({ id: 'Register' });
export type RegisterInput = z.infer<typeof RegisterInput>;

export const LoginInput = z
  .strictObject({
    email: Email,
    password: z.string().min(1).max(128),
  })
  .meta({ id: 'Login' });
export type LoginInput = z.infer<typeof LoginInput>;

export const AuthSession = z
  .object({
    user: User,
    access_token: z.string(),
    /** Seconds until the access token expires. */
    expires_in: z.int(),
  })
  .meta({ id: 'AuthSession' });
export type AuthSession = z.infer<typeof AuthSession>;

export const MeResponse = z.object({ user: User }).meta({ id: 'MeResponse' });
export type MeResponse = z.infer<typeof MeResponse>;
