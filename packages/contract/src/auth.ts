import { z } from 'zod';

export const Role = z.enum(['customer', 'admin']);
export type Role = z.infer<typeof Role>;

export const Email = z
  .string()
  .trim()
  .max(254)
  .pipe(z.email())
  .transform((email) => email.toLowerCase());

export const User = z.object({
  id: z.int(),
  email: z.string(),
  name: z.string(),
  role: Role,
});
export type User = z.infer<typeof User>;

export const RegisterInput = z.strictObject({
  email: Email,
  password: z.string().min(8).max(128),
  name: z.string().trim().min(1).max(100),
});
export type RegisterInput = z.infer<typeof RegisterInput>;

export const LoginInput = z.strictObject({
  email: Email,
  password: z.string().min(1).max(128),
});
export type LoginInput = z.infer<typeof LoginInput>;

export const AuthSession = z.object({
  user: User,
  access_token: z.string(),
  /** Seconds until the access token expires. */
  expires_in: z.int(),
});
export type AuthSession = z.infer<typeof AuthSession>;

export const MeResponse = z.object({ user: User });
export type MeResponse = z.infer<typeof MeResponse>;
